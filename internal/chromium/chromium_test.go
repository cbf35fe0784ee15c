package chromium

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTextThroughLiveUpdates: Text reads an element that the page keeps
// replacing (as the status page's live update does) without failing on the node
// DevTools found being gone when read ("No node with given id found (-32000)",
// seen once in TestStatusPageInBrowser).
func TestTextThroughLiveUpdates(t *testing.T) {
	b := New(t, 800, 600)
	page := `<div id="zones"></div><script>
let n = 0;
setInterval(() => { document.getElementById("zones").innerHTML = "<h2>zone " + (n++ % 2) + "</h2>"; }, 0);
</script>`
	b.Step("live page", chromedp.Navigate("data:text/html,"+url.PathEscape(page)),
		chromedp.WaitVisible(chromedp.CSS("#zones h2")))
	for i := range 300 {
		if s := b.Text("#zones h2"); s != "zone 0" && s != "zone 1" {
			t.Fatalf("read %d: %q", i, s)
		}
	}
}
