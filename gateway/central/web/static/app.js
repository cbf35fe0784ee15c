// The monitor's pages without inline script (the CSP forbids it):
// - the overview fetches its live part (/overview/live with the page's query) every
//   data-refresh seconds, so that a wall screen never goes stale; when the fetch
//   fails it keeps the last rows and says since when they are old;
// - a report's print button opens the browser's print dialog (save as PDF there).
// Without JavaScript every page is still complete.
(function () {
  "use strict";
  var pr = document.getElementById("print");
  if (pr) { pr.addEventListener("click", function () { window.print(); }); }
  var live = document.getElementById("live");
  if (!live) { return; }
  var every = parseInt(live.getAttribute("data-refresh"), 10) || 30;
  var stale = document.getElementById("stale");
  var since = document.getElementById("stale-since");
  var last = new Date();
  var n = 0;
  function mark(ok) {
    if (ok) { last = new Date(); if (stale) { stale.hidden = true; } return; }
    if (stale) { stale.hidden = false; if (since) { since.textContent = last.toLocaleString(document.documentElement.lang); } }
  }
  function poll() {
    fetch("/overview/live" + window.location.search, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (t) {
        if (t === null) { mark(false); return; }
        live.innerHTML = t;
        n++;
        document.documentElement.setAttribute("data-live", String(n));
        mark(true);
      })
      .catch(function () { mark(false); });
  }
  window.setInterval(poll, every * 1000);
})();
