package central_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/saqshy/saqshy/"

// goList runs `go list` in the module root with args and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the packages' imports: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, msg)
	}
	return strings.Fields(string(out))
}

// pipeline is the Pi's reading and checking path: no central package may link it.
var pipeline = []string{
	"gateway", "gateway/spool", "gateway/mqttsrc", "gateway/readings", "gateway/localsensor",
	"gateway/influxsink", "gateway/rules", "gateway/camera", "gateway/rounds", "gateway/decode",
	"gateway/check", "gateway/config", "gateway/status", "gateway/doctor", "gateway/discover",
}

// TestCentralLinksNoPipeline: no central package links the Pi's pipeline.
func TestCentralLinksNoPipeline(t *testing.T) {
	for _, pkg := range goList(t, "./gateway/central/...") {
		deps := goList(t, "-deps", pkg)
		for _, dep := range deps {
			// The registry format (shared by the Pi and the ministry) is written
			// in the centre config's types: gateway/config comes with it, and only
			// with it.
			if dep == mod+"gateway/config" && slices.Contains(deps, mod+"gateway/registry") {
				continue
			}
			for _, p := range pipeline {
				if dep == mod+p || strings.HasPrefix(dep, mod+p+"/") && p != "gateway" {
					t.Errorf("%s links %s, part of the Pi's pipeline", pkg, dep)
				}
			}
		}
	}
}

// TestCentralImportsGoDown: store imports nothing central; jobs, web and rating
// import only store of the central packages (not each other); only monitor wires them.
func TestCentralImportsGoDown(t *testing.T) {
	allowed := map[string][]string{
		"store":   nil,
		"jobs":    {"store"},
		"web":     {"store"},
		"rating":  {"store"},
		"monitor": {"store", "jobs", "web", "rating"},
	}
	for name, ok := range allowed {
		pkg := mod + "gateway/central/" + name
		for _, imp := range goList(t, "-f", `{{join .Imports "\n"}}`, pkg) {
			rest, central := strings.CutPrefix(imp, mod+"gateway/central/")
			if !central {
				continue
			}
			found := false
			for _, o := range ok {
				found = found || rest == o
			}
			if !found {
				t.Errorf("%s imports %s; it may import only %v of gateway/central", pkg, imp, ok)
			}
		}
	}
}

// TestPiLinksNoCentral: the gateway's binary links nothing of the central side.
func TestPiLinksNoCentral(t *testing.T) {
	deps := goList(t, "-deps", "./cmd/saqshy-gateway")
	if len(deps) < 10 {
		t.Fatalf("go list -deps ./cmd/saqshy-gateway listed only %v", deps)
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, mod+"gateway/central") {
			t.Errorf("cmd/saqshy-gateway links %s", dep)
		}
	}
}
