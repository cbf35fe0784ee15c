package status

import (
	"os"
	"strings"
	"testing"
)

// TestStyleDarkAndNotColourAlone: the status page follows the system's dark
// scheme, and every state colour (ok, warn, crit) of a temperature, a card and a
// sensor comes with an icon (the alerts' rows name their severity in words).
func TestStyleDarkAndNotColourAlone(t *testing.T) {
	b, err := os.ReadFile("assets/style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	if !strings.Contains(css, "@media (prefers-color-scheme:dark)") {
		t.Error("style.css has no dark scheme")
	}
	for _, sel := range []string{".temp.ok::before", ".temp.warn::before", ".temp.crit::before", ".card.ok>b::before", ".card.warn>b::before",
		".card.crit>b::before", ".sensors .warn::before", ".sensors .crit::before", "td.warn::before", "td.crit::before"} {
		if !strings.Contains(css, sel) {
			t.Errorf("style.css: %s has no icon: its state is told by colour alone", sel)
		}
	}
}
