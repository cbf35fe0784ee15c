package status

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Snapshot is what the page shows.
type Snapshot struct {
	Centre        string
	CentreName    string
	Now           time.Time
	Uptime        time.Duration
	MQTTConnected bool
	ClockSynced   bool
	InfluxURL     string // "" = spool only
	InfluxError   string
	Received      uint64
	Acked         uint64
	Rejected      uint64
	Spooled       uint64
	Backlog       int64
	SpoolBytes    int64
	SpoolDropped  uint64
	Written       uint64
	DeadLettered  uint64
	Counters      []Counter
	Sensors       []Sensor
	Conditions    []Condition // open ones, oldest first
}

// Condition is an open condition.
type Condition struct {
	Kind, Subject, Zone, Severity, Reason string
	Since                                 time.Time
}

// Counter is one message counter (source, outcome).
type Counter struct {
	Source, Outcome string
	N               uint64
}

// Sensor is one configured sensor's latest state.
type Sensor struct {
	ID, Zone, ZoneName, ZoneKind, Source string
	LastSeen                             time.Time // zero: never reported
	Interval                             time.Duration
	TemperatureC, HumidityPct            *float64
	BatteryPct                           *float64
	Online                               *bool
}

// Age is how long ago the sensor last reported, or -1 if never.
func (s Sensor) Age(now time.Time) time.Duration {
	if s.LastSeen.IsZero() {
		return -1
	}
	return now.Sub(s.LastSeen)
}

// Provider supplies snapshots; the gateway implements it.
type Provider interface {
	Snapshot() Snapshot
}

//go:embed page.html
var pageFS embed.FS

var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"age": func(s Sensor, now time.Time) string {
		a := s.Age(now)
		switch {
		case a < 0:
			return "never"
		case a < time.Minute:
			return fmt.Sprintf("%ds", int(a.Seconds()))
		case a < time.Hour:
			return fmt.Sprintf("%dm", int(a.Minutes()))
		default:
			return fmt.Sprintf("%dh%02dm", int(a.Hours()), int(a.Minutes())%60)
		}
	},
	"stale": func(s Sensor, now time.Time) bool {
		a := s.Age(now)
		return a < 0 || (s.Interval > 0 && a > 3*s.Interval)
	},
	"temp": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f °C", *p)
	},
	"pct": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.0f %%", *p)
	},
	"mib": func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) },
	"dur": func(d time.Duration) string { return d.Truncate(time.Second).String() },
}).ParseFS(pageFS, "page.html"))

// Handler returns the status page's HTTP handler.
func Handler(p Provider, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := sorted(p.Snapshot())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := page.Execute(w, s); err != nil {
			log.Error("status page", "err", err)
		}
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sorted(p.Snapshot()))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		s := p.Snapshot()
		if !s.MQTTConnected {
			http.Error(w, "mqtt not connected", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writeMetrics(w, p.Snapshot())
	})
	return mux
}

func sorted(s Snapshot) Snapshot {
	sort.Slice(s.Sensors, func(i, j int) bool {
		if s.Sensors[i].Zone != s.Sensors[j].Zone {
			return s.Sensors[i].Zone < s.Sensors[j].Zone
		}
		return s.Sensors[i].ID < s.Sensors[j].ID
	})
	sort.Slice(s.Counters, func(i, j int) bool {
		if s.Counters[i].Source != s.Counters[j].Source {
			return s.Counters[i].Source < s.Counters[j].Source
		}
		return s.Counters[i].Outcome < s.Counters[j].Outcome
	})
	return s
}

func writeMetrics(w http.ResponseWriter, s Snapshot) {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	c := fmt.Sprintf(`{centre=%q}`, s.Centre)
	fmt.Fprintf(w, "# HELP saqshy_mqtt_connected 1 when the gateway is connected to its broker.\n# TYPE saqshy_mqtt_connected gauge\nsaqshy_mqtt_connected%s %d\n", c, b(s.MQTTConnected))
	fmt.Fprintf(w, "# HELP saqshy_clock_synced 1 when the system clock is synchronised.\n# TYPE saqshy_clock_synced gauge\nsaqshy_clock_synced%s %d\n", c, b(s.ClockSynced))
	fmt.Fprintf(w, "# TYPE saqshy_mqtt_received_total counter\nsaqshy_mqtt_received_total%s %d\n", c, s.Received)
	fmt.Fprintf(w, "# TYPE saqshy_mqtt_acked_total counter\nsaqshy_mqtt_acked_total%s %d\n", c, s.Acked)
	fmt.Fprintf(w, "# TYPE saqshy_spool_appended_total counter\nsaqshy_spool_appended_total%s %d\n", c, s.Spooled)
	fmt.Fprintf(w, "# TYPE saqshy_spool_backlog_events gauge\nsaqshy_spool_backlog_events%s %d\n", c, s.Backlog)
	fmt.Fprintf(w, "# TYPE saqshy_spool_bytes gauge\nsaqshy_spool_bytes%s %d\n", c, s.SpoolBytes)
	fmt.Fprintf(w, "# TYPE saqshy_spool_dropped_total counter\nsaqshy_spool_dropped_total%s %d\n", c, s.SpoolDropped)
	fmt.Fprintf(w, "# TYPE saqshy_influx_points_total counter\nsaqshy_influx_points_total%s %d\n", c, s.Written)
	fmt.Fprintf(w, "# TYPE saqshy_influx_deadlettered_total counter\nsaqshy_influx_deadlettered_total%s %d\n", c, s.DeadLettered)
	fmt.Fprintf(w, "# HELP saqshy_conditions_open Open conditions by kind and severity.\n# TYPE saqshy_conditions_open gauge\n")
	open := map[[2]string]int{}
	for _, cd := range s.Conditions {
		open[[2]string{cd.Kind, cd.Severity}]++
	}
	for k, n := range open {
		fmt.Fprintf(w, "saqshy_conditions_open{centre=%q,kind=%q,severity=%q} %d\n", s.Centre, k[0], k[1], n)
	}
	fmt.Fprintf(w, "# HELP saqshy_messages_total Messages by source and outcome (decoded, ignored, or a reject reason).\n# TYPE saqshy_messages_total counter\n")
	for _, k := range s.Counters {
		fmt.Fprintf(w, "saqshy_messages_total{centre=%q,source=%q,outcome=%q} %d\n", s.Centre, k.Source, k.Outcome, k.N)
	}
}

// Serve serves h on addr until ctx ends. addr "off" or "" serves nothing. The bound
// address is reported through bound (useful with port 0).
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, bound func(net.Addr)) error {
	if addr == "" || strings.EqualFold(addr, "off") {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status: listen %s: %w", addr, err)
	}
	if bound != nil {
		bound(ln.Addr())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("status page", "url", "http://"+ln.Addr().String()+"/")
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("status: %w", err)
	}
}
