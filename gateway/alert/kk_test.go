package alert

import (
	"strings"
	"testing"
)

// TestKazakhReviewedWords: a resolved alert is "Шешілді" (not "Жойылды", deleted),
// a missed round "өткізіп алынды" (skipped), not "өткізілген" (held).
func TestKazakhReviewedWords(t *testing.T) {
	ts, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ts.Render("kk", Data{Event: "resolved", Kind: "round_missed", Subject: "cp-1", ZoneName: "Дәліз", Centre: "Орталық"})
	if err != nil {
		t.Fatal(err)
	}
	all := m.Subject + "\n" + m.Text
	for _, want := range []string{"Шешілді:", "ШЕШІЛДІ", "Түнгі аралау өткізіп алынды"} {
		if !strings.Contains(all, want) {
			t.Errorf("kk resolved round_missed lacks %q:\n%s", want, all)
		}
	}
	for _, bad := range []string{"Жойылды", "ЖОЙЫЛДЫ", "өткізілген", "өткізілмеді"} {
		if strings.Contains(all, bad) {
			t.Errorf("kk message contains %q:\n%s", bad, all)
		}
	}
}
