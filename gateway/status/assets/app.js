// Live updates for the Saqshy status page: server-sent events carry the live part
// of the page as HTML; when the browser cannot keep a stream open, it fetches the
// same fragment every 5 seconds. Without JavaScript the page is still complete.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var polling = null;
  function apply(html) {
    // A raw payload someone opened stays open across the update.
    var open = {};
    live.querySelectorAll("details[data-raw][open]").forEach(function (d) { open[d.getAttribute("data-raw")] = true; });
    live.innerHTML = html;
    live.querySelectorAll("details[data-raw]").forEach(function (d) { if (open[d.getAttribute("data-raw")]) { d.open = true; } });
    document.documentElement.setAttribute("data-live", "1");
  }
  function poll() {
    fetch("/fragment", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (t) { if (t !== null) { apply(t); } })
      .catch(function () {});
  }
  function startPolling() { if (!polling) { polling = window.setInterval(poll, 5000); } }
  if (!window.EventSource) { startPolling(); return; }
  var es = new EventSource("/events");
  var failures = 0;
  es.addEventListener("live", function (e) { failures = 0; apply(e.data); });
  es.onerror = function () {
    failures++;
    if (failures > 3) { es.close(); startPolling(); }
  };
})();
