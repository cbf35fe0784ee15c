package status

import (
	"bufio"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// /metrics is written here in Prometheus's text exposition format (0.0.4) by hand:
// the client library linked protobuf and its own registry into the gateway's
// binary, about 2 MB of a Pi daemon whose every resident page counts
// (docs/BENCHMARKS.md, memory). The gateway keeps its counters; a scrape only reads
// them (no second set of books).

// metricsContentType is the text exposition format's.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// expo writes metric families: a family's HELP and TYPE, then its samples, each
// labelled centre first, then the pairs given (in name order).
type expo struct {
	w      *bufio.Writer
	centre string
}

func (e *expo) family(name, typ, help string) {
	e.w.WriteString("# HELP " + name + " " + strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help) + "\n")
	e.w.WriteString("# TYPE " + name + " " + typ + "\n")
}

// sample writes one sample; labels are name, value pairs.
func (e *expo) sample(name string, v float64, labels ...string) {
	e.w.WriteString(name + `{centre="` + escLabel(e.centre) + `"`)
	for i := 0; i+1 < len(labels); i += 2 {
		e.w.WriteString("," + labels[i] + `="` + escLabel(labels[i+1]) + `"`)
	}
	e.w.WriteString("} " + formatValue(v) + "\n")
}

// gauge and counter write a family of one unlabelled sample.
func (e *expo) gauge(name, help string, v float64) {
	e.family(name, "gauge", help)
	e.sample(name, v)
}

func (e *expo) counter(name, help string, v uint64) {
	e.family(name, "counter", help)
	e.sample(name, float64(v))
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escLabel(s string) string { return labelEscaper.Replace(s) }

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// writeMetrics writes every family of /metrics: the snapshot's, the page's own,
// and with goMetrics the Go runtime's and the process's.
func writeMetrics(out io.Writer, p Provider, centre string, now time.Time, pm *pageMetrics, goMetrics bool) error {
	e := &expo{w: bufio.NewWriter(out), centre: centre}
	s := p.Snapshot()
	e.gauge("saqshy_mqtt_connected", "1 when the gateway is connected to its broker.", b2f(s.MQTTConnected))
	e.gauge("saqshy_clock_synced", "1 when the system clock is synchronised.", b2f(s.ClockSynced))
	e.counter("saqshy_mqtt_received_total", "MQTT messages received.", s.Received)
	e.counter("saqshy_mqtt_acked_total", "MQTT messages acknowledged after their readings were durable.", s.Acked)
	counters := slices.Clone(s.Counters)
	slices.SortFunc(counters, func(a, b Counter) int {
		return strings.Compare(a.Outcome+"\x00"+a.Source, b.Outcome+"\x00"+b.Source)
	})
	e.family("saqshy_messages_total", "counter", "Messages by source and outcome (decoded, ignored, or a reject reason).")
	for _, k := range counters {
		e.sample("saqshy_messages_total", float64(k.N), "outcome", k.Outcome, "source", k.Source)
	}
	e.family("saqshy_decode_rejects_total", "counter", "Messages and samples rejected, by source and reason.")
	for _, k := range counters {
		if k.Outcome != "decoded" && k.Outcome != "ignored" {
			e.sample("saqshy_decode_rejects_total", float64(k.N), "reason", k.Outcome, "source", k.Source)
		}
	}
	e.counter("saqshy_spool_appended_total", "Readings made durable in the spool.", s.Spooled)
	e.gauge("saqshy_spool_bytes", "Bytes of spool files on disk.", float64(s.SpoolBytes))
	e.gauge("saqshy_spool_backlog_events", "Readings in the spool not yet in InfluxDB.", float64(s.Backlog))
	age := 0.0
	if !s.SpoolOldest.IsZero() && s.Backlog > 0 {
		age = max(now.Sub(s.SpoolOldest).Seconds(), 0)
	}
	e.gauge("saqshy_spool_backlog_age_seconds", "Age of the oldest reading not yet in InfluxDB; 0 when none waits.", age)
	e.counter("saqshy_spool_dropped_total", "Readings dropped because the spool was full.", s.SpoolDropped)
	e.counter("saqshy_spool_corrupt_total", "Readings lost to damaged spool files, since the gateway started.", s.SpoolCorrupt)
	e.counter("saqshy_spool_lost_total", "Readings lost to missing spool files (holes between segments), found at start.", s.SpoolLost)
	if s.SpoolDiskFree >= 0 {
		e.gauge("saqshy_spool_disk_free_bytes", "Bytes free on the spool's file system.", float64(s.SpoolDiskFree))
	}
	e.gauge("saqshy_spool_write_failing", "1 while the spool cannot store readings (e.g. the disk is full).", b2f(s.SpoolError != ""))
	e.counter("saqshy_influx_points_total", "Points InfluxDB accepted.", s.Written)
	e.counter("saqshy_influx_batches_total", "Write requests InfluxDB accepted.", s.WriterBatches)
	e.counter("saqshy_influx_retries_total", "Write requests that failed and were retried.", s.WriterRetries)
	e.counter("saqshy_influx_deadlettered_total", "Points InfluxDB rejected as malformed (in deadletter.lp).", s.DeadLettered)
	e.gauge("saqshy_influx_failing", "1 while writes to InfluxDB fail.", b2f(s.InfluxError != ""))
	open := map[[2]string]int{}
	for _, cd := range s.Conditions {
		open[[2]string{cd.Kind, cd.Severity}]++
	}
	e.family("saqshy_conditions_open", "gauge", "Open conditions by kind and severity.")
	for _, k := range slices.SortedFunc(maps.Keys(open), func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) }) {
		e.sample("saqshy_conditions_open", float64(open[k]), "kind", k[0], "severity", k[1])
	}
	firing := map[string]int{SeverityWarning: 0, SeverityCritical: 0}
	for _, a := range s.Alerts {
		if a.State == AlertFiring {
			firing[a.Severity]++
		}
	}
	e.family("saqshy_alerts_firing", "gauge", "Alerts firing (not acknowledged) by severity.")
	for _, sev := range slices.Sorted(maps.Keys(firing)) {
		e.sample("saqshy_alerts_firing", float64(firing[sev]), "severity", sev)
	}
	e.gauge("saqshy_uptime_seconds", "Seconds since the gateway started.", s.Uptime.Seconds())
	pm.write(e)
	if goMetrics {
		writeRuntimeMetrics(e)
	}
	return e.w.Flush()
}

// pageMetrics are the status page's own counters.
type pageMetrics struct {
	logins   counterVec // outcome: ok, wrong_password, too_many, bad_csrf
	rejected counterVec // reason: bad_csrf, unauthorized, unknown_alert, no_acker, ack_error, bad_request
	acks     atomic.Uint64
	streams  atomic.Int64
}

func (m *pageMetrics) write(e *expo) {
	m.logins.write(e, "saqshy_status_logins_total", "Status page sign-in attempts by outcome.", "outcome")
	m.rejected.write(e, "saqshy_status_rejected_requests_total", "Status page requests refused, by reason.", "reason")
	e.counter("saqshy_status_acks_total", "Alerts acknowledged from the status page.", m.acks.Load())
	e.gauge("saqshy_status_live_streams", "Browsers receiving live updates now.", float64(m.streams.Load()))
}

// counterVec is a counter by one label's value; a value appears once counted.
type counterVec struct {
	mu sync.Mutex
	n  map[string]uint64
}

func (c *counterVec) inc(value string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]uint64{}
	}
	c.n[value]++
	c.mu.Unlock()
}

func (c *counterVec) write(e *expo, name, help, label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.family(name, "counter", help)
	for _, v := range slices.Sorted(maps.Keys(c.n)) {
		e.sample(name, float64(c.n[v]), label, v)
	}
}

// writeRuntimeMetrics writes the Go runtime's and the process's figures under the
// names Prometheus's own collectors use, labelled with the centre like the rest.
func writeRuntimeMetrics(e *expo) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	e.gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	e.gauge("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", float64(ms.HeapAlloc))
	e.gauge("go_memstats_sys_bytes", "Number of bytes obtained from system.", float64(ms.Sys))
	e.counter("go_gc_cycles_total", "Number of completed GC cycles.", uint64(ms.NumGC))
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		e.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")
		e.sample("process_cpu_seconds_total", cpu.Seconds())
	}
	if rss, ok := residentBytes(); ok {
		e.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", float64(rss))
	}
}

// residentBytes reads the process's resident set size from /proc/self/statm.
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
