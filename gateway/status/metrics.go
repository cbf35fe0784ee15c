package status

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exports a Snapshot's counters as Prometheus metrics at scrape time: the
// gateway keeps its counters, this only reads them (no second set of books).
type collector struct {
	p   Provider
	now func() time.Time

	mqttConnected, clockSynced, received, acked                       *prometheus.Desc
	messages, rejects                                                 *prometheus.Desc
	spoolAppended, spoolBytes, spoolBacklog, spoolAge, spoolDropped   *prometheus.Desc
	spoolCorrupt, spoolLost, spoolFree, spoolFailing                  *prometheus.Desc
	influxPoints, influxBatches, influxRetries, influxDead, influxErr *prometheus.Desc
	condOpen, alertsFiring, uptime                                    *prometheus.Desc
}

func newCollector(p Provider, centre string, now func() time.Time) *collector {
	cl := prometheus.Labels{"centre": centre}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, cl)
	}
	return &collector{p: p, now: now,
		mqttConnected: d("saqshy_mqtt_connected", "1 when the gateway is connected to its broker."),
		clockSynced:   d("saqshy_clock_synced", "1 when the system clock is synchronised."),
		received:      d("saqshy_mqtt_received_total", "MQTT messages received."),
		acked:         d("saqshy_mqtt_acked_total", "MQTT messages acknowledged after their readings were durable."),
		messages:      d("saqshy_messages_total", "Messages by source and outcome (decoded, ignored, or a reject reason).", "source", "outcome"),
		rejects:       d("saqshy_decode_rejects_total", "Messages and samples rejected, by source and reason.", "source", "reason"),
		spoolAppended: d("saqshy_spool_appended_total", "Readings made durable in the spool."),
		spoolBytes:    d("saqshy_spool_bytes", "Bytes of spool files on disk."),
		spoolBacklog:  d("saqshy_spool_backlog_events", "Readings in the spool not yet in InfluxDB."),
		spoolAge:      d("saqshy_spool_backlog_age_seconds", "Age of the oldest reading not yet in InfluxDB; 0 when none waits."),
		spoolDropped:  d("saqshy_spool_dropped_total", "Readings dropped because the spool was full."),
		spoolCorrupt:  d("saqshy_spool_corrupt_total", "Readings lost to damaged spool files, since the gateway started."),
		spoolLost:     d("saqshy_spool_lost_total", "Readings lost to missing spool files (holes between segments), found at start."),
		spoolFree:     d("saqshy_spool_disk_free_bytes", "Bytes free on the spool's file system."),
		spoolFailing:  d("saqshy_spool_write_failing", "1 while the spool cannot store readings (e.g. the disk is full)."),
		influxPoints:  d("saqshy_influx_points_total", "Points InfluxDB accepted."),
		influxBatches: d("saqshy_influx_batches_total", "Write requests InfluxDB accepted."),
		influxRetries: d("saqshy_influx_retries_total", "Write requests that failed and were retried."),
		influxDead:    d("saqshy_influx_deadlettered_total", "Points InfluxDB rejected as malformed (in deadletter.lp)."),
		influxErr:     d("saqshy_influx_failing", "1 while writes to InfluxDB fail."),
		condOpen:      d("saqshy_conditions_open", "Open conditions by kind and severity.", "kind", "severity"),
		alertsFiring:  d("saqshy_alerts_firing", "Alerts firing (not acknowledged) by severity.", "severity"),
		uptime:        d("saqshy_uptime_seconds", "Seconds since the gateway started."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.mqttConnected, c.clockSynced, c.received, c.acked, c.messages, c.rejects,
		c.spoolAppended, c.spoolBytes, c.spoolBacklog, c.spoolAge, c.spoolDropped,
		c.spoolCorrupt, c.spoolLost, c.spoolFree, c.spoolFailing,
		c.influxPoints, c.influxBatches, c.influxRetries, c.influxDead, c.influxErr, c.condOpen, c.alertsFiring, c.uptime} {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Snapshot()
	g := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	n := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	g(c.mqttConnected, b2f(s.MQTTConnected))
	g(c.clockSynced, b2f(s.ClockSynced))
	n(c.received, s.Received)
	n(c.acked, s.Acked)
	for _, k := range s.Counters {
		n(c.messages, k.N, k.Source, k.Outcome)
		if k.Outcome != "decoded" && k.Outcome != "ignored" {
			n(c.rejects, k.N, k.Source, k.Outcome)
		}
	}
	n(c.spoolAppended, s.Spooled)
	g(c.spoolBytes, float64(s.SpoolBytes))
	g(c.spoolBacklog, float64(s.Backlog))
	age := 0.0
	if !s.SpoolOldest.IsZero() && s.Backlog > 0 {
		age = max(c.now().Sub(s.SpoolOldest).Seconds(), 0)
	}
	g(c.spoolAge, age)
	n(c.spoolDropped, s.SpoolDropped)
	n(c.spoolCorrupt, s.SpoolCorrupt)
	n(c.spoolLost, s.SpoolLost)
	if s.SpoolDiskFree >= 0 {
		g(c.spoolFree, float64(s.SpoolDiskFree))
	}
	g(c.spoolFailing, b2f(s.SpoolError != ""))
	n(c.influxPoints, s.Written)
	n(c.influxBatches, s.WriterBatches)
	n(c.influxRetries, s.WriterRetries)
	n(c.influxDead, s.DeadLettered)
	g(c.influxErr, b2f(s.InfluxError != ""))
	open := map[[2]string]int{}
	for _, cd := range s.Conditions {
		open[[2]string{cd.Kind, cd.Severity}]++
	}
	for k, v := range open {
		g(c.condOpen, float64(v), k[0], k[1])
	}
	firing := map[string]int{SeverityWarning: 0, SeverityCritical: 0}
	for _, a := range s.Alerts {
		if a.State == AlertFiring {
			firing[a.Severity]++
		}
	}
	for sev, v := range firing {
		g(c.alertsFiring, float64(v), sev)
	}
	g(c.uptime, s.Uptime.Seconds())
}

// pageMetrics are the status page's own counters.
type pageMetrics struct {
	logins   *prometheus.CounterVec // outcome: ok, wrong_password, too_many, bad_csrf
	rejected *prometheus.CounterVec // reason: bad_csrf, unauthorized, unknown_alert, no_acker, ack_error, bad_request
	acks     prometheus.Counter
	streams  prometheus.Gauge
}

func newPageMetrics(reg prometheus.Registerer, centre string) *pageMetrics {
	cl := prometheus.Labels{"centre": centre}
	m := &pageMetrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "saqshy_status_logins_total",
			Help: "Status page sign-in attempts by outcome.", ConstLabels: cl}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "saqshy_status_rejected_requests_total",
			Help: "Status page requests refused, by reason.", ConstLabels: cl}, []string{"reason"}),
		acks: prometheus.NewCounter(prometheus.CounterOpts{Name: "saqshy_status_acks_total",
			Help: "Alerts acknowledged from the status page.", ConstLabels: cl}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "saqshy_status_live_streams",
			Help: "Browsers receiving live updates now.", ConstLabels: cl}),
	}
	reg.MustRegister(m.logins, m.rejected, m.acks, m.streams)
	return m
}
