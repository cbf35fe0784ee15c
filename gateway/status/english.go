package status

import (
	"regexp"
	"strings"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

var (
	formatVerbRE = regexp.MustCompile(`%[sd]`)
	latinRE      = regexp.MustCompile(`[A-Za-z]`)
)

// EnglishOnly is every English string of the page's catalogues that Russian and
// Kazakh say otherwise, cut at its format verbs: a Russian or Kazakh page showing
// one shows English. The page's tests, in Go and in a browser, check for them.
func EnglishOnly() []string {
	var out []string
	add := func(m [3]string) {
		if m[2] == m[0] || m[2] == m[1] {
			return
		}
		for _, frag := range formatVerbRE.Split(m[2], -1) {
			frag = strings.Trim(strings.TrimSpace(frag), ":·—")
			if len(latinRE.FindAllString(frag, -1)) >= 3 {
				out = append(out, frag)
			}
		}
	}
	for _, m := range messages {
		add(m)
	}
	for _, m := range names {
		add(m)
	}
	for _, k := range zonekind.All() {
		add([3]string{k.Names.RU, k.Names.KK, k.Names.EN})
	}
	return out
}

// EnglishIn returns the strings of EnglishOnly that text shows as words of their
// own (beside '.' or '_' a word is a config key or file name: status.password_file).
func EnglishIn(text string) []string {
	var found []string
	for _, s := range EnglishOnly() {
		if regexp.MustCompile(`(^|[^A-Za-z._])` + regexp.QuoteMeta(s) + `($|[^A-Za-z._])`).MatchString(text) {
			found = append(found, s)
		}
	}
	return found
}
