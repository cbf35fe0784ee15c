package doctor

import (
	"fmt"

	"github.com/saqshy/saqshy/gateway/config"
)

// checkSecretFiles warns about secret files others can read (issue 18): the
// gateway runs, but a password or token in a file every user can read is not a
// secret.
func checkSecretFiles(cfg *config.Config) Check {
	ws := cfg.SecretWarnings()
	if len(ws) == 0 {
		return Check{Name: "secret-files", Status: Pass, Title: "No secret file is readable by others"}
	}
	c := Check{Name: "secret-files", Status: Warn,
		Title: fmt.Sprintf("%d secret file(s) readable by others", len(ws)),
		Fix:   "chmod 600 each file named above (or 0640 with the saqshy group: sudo chown root:saqshy FILE && sudo chmod 0640 FILE)"}
	for _, w := range ws {
		c.Items = append(c.Items, Item{Warn, w})
	}
	return c
}
