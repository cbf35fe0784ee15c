package layout

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/saqshy/saqshy/"

// root is the module's root, from this package's directory.
var root = filepath.Join("..", "..", "..")

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath string
	Imports    []string // not the tests'
	Deps       []string
}

// list runs `go list -json` on patterns in the module root.
func list(t *testing.T, patterns ...string) map[string]pkg {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the packages' imports: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"list", "-json=ImportPath,Imports,Deps"}, patterns...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", patterns, err, msg)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, mod)] = p
	}
	return pkgs
}

// rule is one row of the layout table: the module packages a package may import,
// or any when the row says *.
type rule struct {
	line    int
	any     bool
	allowed []string
}

// table reads the package tables of docs/ARCHITECTURE.md's "## Layout" section:
// rows of | `path` | what it owns | `a`, `b` (or — or *) |, for the packages
// under gateway/, cmd/ and internal/ (the module's test helpers that both the
// gateway's and the monitor's tests import).
func table(t *testing.T) map[string]rule {
	t.Helper()
	const doc = "docs/ARCHITECTURE.md"
	f, err := os.Open(filepath.Join(root, doc))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string]rule{}
	sc := bufio.NewScanner(f)
	in := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Layout"
		}
		if !in || !strings.HasPrefix(line, "| `gateway") && !strings.HasPrefix(line, "| `cmd/") && !strings.HasPrefix(line, "| `internal/") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 {
			t.Errorf("%s:%d: a package row has three cells (package, what it owns, may import): %q", doc, n, line)
			continue
		}
		name := strings.Trim(cells[0], "`")
		if prev, dup := rules[name]; dup {
			t.Errorf("%s:%d: %s is listed twice (first at line %d)", doc, n, name, prev.line)
		}
		r := rule{line: n}
		switch imports := strings.TrimSpace(cells[2]); imports {
		case "*":
			r.any = true
		case "—", "-":
		default:
			for _, imp := range strings.Split(imports, ",") {
				r.allowed = append(r.allowed, strings.Trim(strings.TrimSpace(imp), "`"))
			}
		}
		rules[name] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rules) < 10 {
		t.Fatalf("%s: found only %d package rows; is the layout table still there?", doc, len(rules))
	}
	return rules
}

// TestLayoutTable: every package is in the table, every row is a package, and no
// package imports a module package its row does not allow.
func TestLayoutTable(t *testing.T) {
	rules := table(t)
	pkgs := list(t, "./...")
	for name, p := range pkgs {
		r, ok := rules[name]
		if !ok {
			t.Errorf("package %s is not in docs/ARCHITECTURE.md's layout table: add a row saying what it owns and may import", name)
			continue
		}
		if r.any {
			continue
		}
		for _, imp := range p.Imports {
			imp, ours := strings.CutPrefix(imp, mod)
			if ours && !slices.Contains(r.allowed, imp) {
				t.Errorf("%s imports %s, which its row (docs/ARCHITECTURE.md:%d) does not allow", name, imp, r.line)
			}
		}
	}
	for name, r := range rules {
		if _, ok := pkgs[name]; !ok {
			t.Errorf("docs/ARCHITECTURE.md:%d lists %s, which is not a package", r.line, name)
		}
	}
}

// pipeline is the Pi's reading and checking path: nothing central may link it.
// (config, zonekind, telemetry, score, registry and notify are shared formats.)
var pipeline = []string{
	"gateway", "gateway/spool", "gateway/mqttsrc", "gateway/readings", "gateway/localsensor",
	"gateway/influxsink", "gateway/deadband", "gateway/rules", "gateway/camera", "gateway/rounds", "gateway/decode",
	"gateway/check", "gateway/status", "gateway/doctor", "gateway/discover", "gateway/alert/alertcheck",
}

// TestCentralLinksNoPipeline: no central package, and not the monitor's or the
// ingest's binary, links the Pi's pipeline.
func TestCentralLinksNoPipeline(t *testing.T) {
	pkgs := list(t, "./gateway/central/...", "./cmd/saqshy-monitor", "./cmd/saqshy-ingest")
	for name, p := range pkgs {
		for _, dep := range p.Deps {
			dep, ours := strings.CutPrefix(dep, mod)
			if ours && slices.Contains(pipeline, dep) {
				t.Errorf("%s links %s, part of the Pi's pipeline", name, dep)
			}
		}
	}
}

// TestPiLinksNoCentral: the gateway's binary links nothing of the central side.
func TestPiLinksNoCentral(t *testing.T) {
	p := list(t, "./cmd/saqshy-gateway")["cmd/saqshy-gateway"]
	if len(p.Deps) < 10 {
		t.Fatalf("go list -deps ./cmd/saqshy-gateway listed only %v", p.Deps)
	}
	for _, dep := range p.Deps {
		if strings.HasPrefix(dep, mod+"gateway/central") {
			t.Errorf("cmd/saqshy-gateway links %s", dep)
		}
	}
}

// TestPiDaemonLinksNoExtras: the Pi's release binary (-tags nodemo, as `make
// release` builds it) links neither the demo (its broker, the simulator) nor the
// Prometheus client and protobuf: every page of the executable the daemon maps
// counts in its resident memory on the Pi (docs/BENCHMARKS.md, memory).
func TestPiDaemonLinksNoExtras(t *testing.T) {
	p := list(t, "-tags", "nodemo", "./cmd/saqshy-gateway")["cmd/saqshy-gateway"]
	if len(p.Deps) < 10 {
		t.Fatalf("go list -deps -tags nodemo ./cmd/saqshy-gateway listed only %v", p.Deps)
	}
	forbidden := []string{mod + "gateway/sim", mod + "gateway/central", "github.com/mochi-mqtt/",
		"github.com/prometheus/", "google.golang.org/protobuf/"}
	for _, dep := range p.Deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f) {
				t.Errorf("the Pi's daemon (-tags nodemo) links %s", dep)
			}
		}
	}
}
