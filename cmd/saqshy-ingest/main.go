// Command saqshy-ingest is the ministry's verifying ingest: it speaks InfluxDB's
// v2 write API to the gateways, verifies each signed, chained write and forwards
// what passes to InfluxDB, whose write token only it holds. See
// gateway/central/ingest and docs/SCALING.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/saqshy/saqshy/gateway/central/ingest"
)

const usage = `saqshy-ingest: the verifying ingest, the only writer to InfluxDB.

Usage:
  saqshy-ingest serve --config FILE
      Listen for gateways' signed writes (POST /api/v2/write, GET /ping, /health,
      /centres). Each request must carry a link of its centre's chain signed with
      the gateway key registered for the centre; every point must carry that
      centre's tag, an allowed measurement and a timestamp that is not a backdate.
      Passing writes go to InfluxDB; every authentic request is archived.
  saqshy-ingest verify --archive DIR --keys FILE --centre C --day YYYY-MM-DD
      Re-verify one centre's archived day: signatures, body hashes and the chain.
      Exit status 0 when intact, 1 when tampered or unreadable, 3 when the records
      verify but the centre's newest day file ends in an incomplete record (a
      write cut by a crash, never acknowledged, which the ingest truncates on the
      centre's next request; or the file's end was cut: docs/SCALING.md).

Config file (YAML):
  listen: 127.0.0.1:8087          # address of the write API
  influx: {url: http://127.0.0.1:8086, org: ministry, bucket: centres, token_file: /etc/saqshy/ingest.token}
  archive_dir: /var/lib/saqshy-ingest/archive
  heads_dir: /var/lib/saqshy-ingest/heads
  keys_file: /etc/saqshy/gateway-keys   # lines "<centre> ed25519:<base64>"
  grace: 10m                       # optional: backdate grace
  open_centres: 4096               # optional: centres whose files stay open (3 descriptors each; LimitNOFILE)
`

type config struct {
	Listen string `yaml:"listen"`
	Influx struct {
		URL       string `yaml:"url"`
		Org       string `yaml:"org"`
		Bucket    string `yaml:"bucket"`
		TokenFile string `yaml:"token_file"`
	} `yaml:"influx"`
	ArchiveDir string        `yaml:"archive_dir"`
	HeadsDir   string        `yaml:"heads_dir"`
	KeysFile   string        `yaml:"keys_file"`
	Grace      time.Duration `yaml:"grace"`
	// OpenCentres: ingest.Config.OpenCentres (0: its default).
	OpenCentres int `yaml:"open_centres"`
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "verify":
		return verify(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "saqshy-ingest: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func loadConfig(path string) (*config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c config
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"listen", c.Listen}, {"influx.url", c.Influx.URL}, {"influx.bucket", c.Influx.Bucket},
		{"archive_dir", c.ArchiveDir}, {"heads_dir", c.HeadsDir}, {"keys_file", c.KeysFile}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("config %s: missing %s", path, strings.Join(missing, ", "))
	}
	return &c, nil
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "saqshy-ingest serve: --config FILE is required")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	c, err := loadConfig(*cfgPath)
	if err != nil {
		log.Error("saqshy-ingest", "err", err)
		return 1
	}
	keys, err := ingest.LoadKeys(c.KeysFile)
	if err != nil {
		log.Error("saqshy-ingest", "err", err)
		return 1
	}
	var token string
	if c.Influx.TokenFile != "" {
		b, err := os.ReadFile(c.Influx.TokenFile)
		if err != nil {
			log.Error("saqshy-ingest: influx token", "err", err)
			return 1
		}
		token = strings.TrimSpace(string(b))
	}
	srv, err := ingest.New(ingest.Config{
		Keys:       keys,
		Forward:    &ingest.Influx{URL: c.Influx.URL, Org: c.Influx.Org, Bucket: c.Influx.Bucket, Token: token, Client: &http.Client{Timeout: 30 * time.Second}},
		ArchiveDir: c.ArchiveDir, HeadsDir: c.HeadsDir, Grace: c.Grace, OpenCentres: c.OpenCentres, Log: log,
	})
	if err != nil {
		log.Error("saqshy-ingest", "err", err)
		return 1
	}
	hs := &http.Server{Addr: c.Listen, Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shut := make(chan struct{})
	go func() {
		defer close(shut)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	log.Info("saqshy-ingest: listening", "addr", c.Listen, "centres", len(keys))
	err = hs.ListenAndServe()
	if errors.Is(err, http.ErrServerClosed) {
		<-shut // Shutdown returns once the requests under way are answered
		err = nil
	}
	srv.Close()
	if err != nil {
		log.Error("saqshy-ingest", "err", err)
		return 1
	}
	return 0
}

func verify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("archive", "", "archive directory")
	keysPath := fs.String("keys", "", "keys file (lines \"<centre> ed25519:<base64>\")")
	centre := fs.String("centre", "", "centre id")
	day := fs.String("day", "", "UTC day, YYYY-MM-DD")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *keysPath == "" || *centre == "" || *day == "" {
		fmt.Fprintln(stderr, "saqshy-ingest verify: --archive, --keys, --centre and --day are required")
		return 2
	}
	keys, err := ingest.LoadKeys(*keysPath)
	if err != nil {
		fmt.Fprintln(stderr, "saqshy-ingest verify:", err)
		return 1
	}
	rep, err := ingest.Verify(*dir, *centre, *day, keys)
	status, verdict := 0, "intact"
	switch {
	case errors.Is(err, ingest.ErrTornTail):
		fmt.Fprintf(stderr, "saqshy-ingest verify: %s %s: TORN TAIL: %v\n", *centre, *day, err)
		status, verdict = 3, fmt.Sprintf("intact up to a torn last record of %d bytes (no link: never acknowledged unless the file was cut)", rep.TornTail)
	case err != nil:
		fmt.Fprintf(stderr, "saqshy-ingest verify: %s %s: TAMPERED OR UNREADABLE: %v\n", *centre, *day, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s: %s: %d records, %d links (seq %d..%d, %d points), %d resends, %d refused, %d gaps\n",
		*centre, *day, verdict, rep.Records, rep.Accepted, rep.FirstSeq, rep.LastSeq, rep.Points, rep.Resends, rep.Refused, len(rep.Gaps))
	for _, g := range rep.Gaps {
		fmt.Fprintf(stdout, "  gap: links %d..%d never arrived (noticed %s)\n", g.From, g.To, g.At.Format(time.RFC3339))
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "  note:", n)
	}
	return status
}
