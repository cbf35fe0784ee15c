package doctor

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// Status is the outcome of one check.
type Status uint8

// Outcomes. Only Fail makes a report not OK.
const (
	Pass Status = iota + 1
	Warn        // worth knowing; the gateway can run
	Fail        // the gateway cannot do its job until this is fixed
	Skip        // not checked: nothing to check, or a check it depends on failed
)

// Mark returns the checklist mark: ✓, !, ✗ or –.
func (s Status) Mark() string {
	switch s {
	case Pass:
		return "✓"
	case Warn:
		return "!"
	case Fail:
		return "✗"
	}
	return "–"
}

// String returns "pass", "warn", "fail" or "skip".
func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Check is one line of the checklist.
type Check struct {
	// Name is a stable short identifier: config, mqtt, sensors, cameras,
	// checkpoints, influx, clock, timezone, spool, buses, registry, camera-stills, and for the alert
	// channels alerts, telegram-token, telegram, smtp-password, smtp,
	// webhook-secret, webhook.
	Name   string
	Status Status
	// Title is the line a technician reads, e.g. "MQTT broker tcp://… accepted user saqshy".
	Title string
	// Items are detail lines (one per sensor, camera, …), each with its own mark.
	Items []Item
	// Fix says what to do when Status is Fail or Warn.
	Fix string
}

// Item is one detail line of a check.
type Item struct {
	Status Status
	Text   string
}

// Report is the result of [Run]: the checks in the order they ran.
type Report struct {
	Checks []Check
}

// OK reports whether no check failed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// Get returns the check called name, or false.
func (r *Report) Get(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

// WriteTo prints the checklist: one line per check with its mark, its items
// indented below it, the fix after a failed or warned check, and a last line saying
// whether the gateway can run.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fails, warns := 0, 0
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%s %s\n", c.Status.Mark(), c.Title)
		for _, it := range c.Items {
			fmt.Fprintf(&b, "    %s %s\n", it.Status.Mark(), it.Text)
		}
		if c.Fix != "" && (c.Status == Fail || c.Status == Warn) {
			for i, line := range strings.Split(strings.TrimRight(c.Fix, "\n"), "\n") {
				if i == 0 {
					fmt.Fprintf(&b, "  fix: %s\n", line)
				} else {
					fmt.Fprintf(&b, "       %s\n", line)
				}
			}
		}
		switch c.Status {
		case Fail:
			fails++
		case Warn:
			warns++
		}
	}
	b.WriteString("\n")
	switch {
	case fails == 0 && warns == 0:
		b.WriteString("All checks passed: the gateway has everything it needs.\n")
	case fails == 0:
		fmt.Fprintf(&b, "Everything needed passed (%d %s marked ! worth a look).\n", warns, plural(warns, "warning", "warnings"))
	default:
		fmt.Fprintf(&b, "%d %s marked ✗ must be fixed; then run doctor again.\n", fails, plural(fails, "problem", "problems"))
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Clock says whether the system clock is synchronised (gateway.SystemClock
// implements it).
type Clock interface {
	Synced() bool
}

// Options tune [Run]; the zero value checks the real system with the defaults.
type Options struct {
	// Since is how recently a sensor, camera or checkpoint must have reported to
	// count as alive (default 10m).
	Since time.Duration
	// Listen bounds how long doctor listens on the broker for devices that have not
	// yet been heard (default 30s). It stops early once everything has reported.
	Listen time.Duration
	// MQTTPassword and InfluxToken, when set, replace the secrets the config names.
	MQTTPassword, InfluxToken string
	// Clock reports clock synchronisation; nil checks nothing and warns.
	Clock Clock
	// Local is the system's time zone (default time.Local).
	Local *time.Location
	// W1Root is the kernel's 1-Wire device directory (default /sys/bus/w1/devices)
	// and DevRoot the device directory holding i2c-N (default /dev).
	W1Root, DevRoot string
	// Progress, when set, receives a line about what doctor is waiting for.
	Progress io.Writer
	// Now returns the time (default time.Now).
	Now func() time.Time
	// SMTPTLS, when set, replaces the system's TLS settings for the SMTP check
	// (tests: a server with its own certificate authority).
	SMTPTLS *tls.Config
	// RegistryClient fetches the registry bundle (default: HTTPS verified
	// against the system's roots).
	RegistryClient *http.Client
}

func (o *Options) defaults() {
	if o.Since <= 0 {
		o.Since = 10 * time.Minute
	}
	if o.Listen <= 0 {
		o.Listen = 30 * time.Second
	}
	if o.Local == nil {
		o.Local = time.Local
	}
	if o.W1Root == "" {
		o.W1Root = "/sys/bus/w1/devices"
	}
	if o.DevRoot == "" {
		o.DevRoot = "/dev"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Run loads the config at path and runs every check. It returns when the checks
// are done or ctx ends (the remaining checks are then reported as skipped).
func Run(ctx context.Context, path string, opt Options) *Report {
	opt.defaults()
	r := &Report{}
	cfg, err := config.Load(path)
	if err != nil {
		n := len(config.FieldErrors(err))
		c := Check{Name: "config", Status: Fail, Title: fmt.Sprintf("Config %s has errors", path),
			Fix: fmt.Sprintf("correct the lines above (saqshy-gateway check-config %s shows them again), then run doctor again", path)}
		if n == 0 {
			c.Title = fmt.Sprintf("Config %s cannot be read", path)
			c.Fix = "give doctor the right file with --config (the gateway reads /etc/saqshy/centre.yaml), and run it as root or as the saqshy user"
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			c.Items = append(c.Items, Item{Fail, line})
		}
		r.add(c)
		return r
	}
	r.add(Check{Name: "config", Status: Pass, Title: fmt.Sprintf("Config %s is valid: centre %s, %d zones, %d sensors, %d cameras, %d checkpoints",
		path, cfg.Centre.ID, len(cfg.Zones), len(cfg.Sensors), len(cfg.Cameras), len(cfg.Rounds.Checkpoints))})
	RunConfig(ctx, cfg, opt, r)
	return r
}

// RunConfig runs every check but the config's on an already valid cfg and appends
// them to r.
func RunConfig(ctx context.Context, cfg *config.Config, opt Options, r *Report) {
	opt.defaults()
	for _, c := range checkMQTT(ctx, cfg, &opt) {
		r.add(c)
	}
	r.add(checkInflux(ctx, cfg, &opt))
	r.add(checkClock(cfg, &opt))
	r.add(checkTimezone(cfg, &opt))
	r.add(checkSpool(cfg))
	r.add(checkSecretFiles(cfg))
	r.add(checkBuses(cfg, &opt))
	if len(cfg.Cameras) > 0 {
		r.add(checkStills(ctx, cfg, &opt))
	}
	for _, c := range checkAlerts(ctx, cfg, &opt) {
		r.add(c)
	}
	r.add(checkRegistry(ctx, cfg, &opt))
}
