package rules

import (
	"fmt"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Health is what the gateway-health rules read from the gateway at every tick.
type Health struct {
	MQTTConnected bool
	ClockSynced   bool
	SpoolBytes    int64
	SpoolMax      int64  // 0: unbounded
	InfluxError   string // the last write error; "" when writes succeed
	// InfluxRefused is the last refusal of the ministry's ingest (a batch it will
	// never take: unknown key, wrong centre, backdate…), with the fix; "" after it
	// accepts a batch. Waiting does not fix it: it is raised at once.
	InfluxRefused string

	SpoolDiskFree   int64  // bytes free on the spool's file system; -1 unknown
	SpoolDiskLow    bool   // the spool's file system is almost full
	SpoolWriteError string // the spool cannot store readings (e.g. disk full); "" when it can
	SpoolLost       uint64 // readings lost to missing or damaged spool files since start
	// MQTTProblem says what keeps MQTT from delivering (a refused login, a session
	// taken over, subscriptions denied), with the fix; "" if nothing is known.
	MQTTProblem string
}

// HealthSource gives the gateway's health.
type HealthSource interface {
	Health() Health
}

// Gateway-health thresholds.
const (
	SpoolWarnRatio  = 0.80 // spool fuller than this: warning
	SpoolCritRatio  = 0.95 // critical: the oldest data will soon be dropped
	SpoolClearRatio = 0.75
	UplinkWarn      = time.Hour      // InfluxDB failing this long: warning
	UplinkCrit      = 24 * time.Hour // critical
	ClockWarn       = 10 * time.Minute
	MQTTWarn        = 2 * time.Minute
	MQTTCrit        = 30 * time.Minute
)

type healthState struct {
	influxFailing, clockBad, mqttDown time.Time // since when; zero when fine
	up                                map[string]raised
}

func (h *healthState) raised(kind string, sev telemetry.Severity, since time.Time) {
	if h.up == nil {
		h.up = map[string]raised{}
	}
	h.up[kind] = raised{sev, since}
}

func since(p *time.Time, bad bool, now time.Time) time.Duration {
	if !bad {
		*p = time.Time{}
		return 0
	}
	if p.IsZero() {
		*p = now
	}
	return now.Sub(*p)
}

func (h *healthState) tick(r telemetry.Conditions, now time.Time, hs Health) {
	if h.up == nil {
		h.up = map[string]raised{}
	}
	set := func(kind string, sev telemetry.Severity, from time.Time, v float64, why string) {
		old, ok := h.up[kind]
		switch {
		case sev == 0 && ok:
			delete(h.up, kind)
			r.Clear(kind, GatewaySubject, now)
		case sev != 0 && (!ok || old.sev != sev):
			if ok {
				from = old.since
			}
			h.up[kind] = raised{sev, from}
			r.Raise(telemetry.Condition{Kind: kind, Subject: GatewaySubject, Severity: sev, Since: from,
				Reason: why, Value: v, HasValue: true})
		}
	}
	// spool: the worst of its fill ratio, the disk and its losses
	spoolSev, spoolWhy, spoolV := telemetry.Severity(0), "", 0.0
	if hs.SpoolMax > 0 {
		ratio := float64(hs.SpoolBytes) / float64(hs.SpoolMax)
		var sev telemetry.Severity
		switch {
		case ratio > SpoolCritRatio:
			sev = telemetry.Critical
		case ratio > SpoolWarnRatio:
			sev = telemetry.Warning
		case ratio > SpoolClearRatio && h.up[KindSpool].sev != 0:
			sev = telemetry.Warning // hysteresis
		}
		spoolSev, spoolWhy, spoolV = sev, fmt.Sprintf("spool %.0f %% full", ratio*100), ratio*100
	}
	worse := func(sev telemetry.Severity, why string) {
		if sev > spoolSev {
			spoolSev, spoolWhy = sev, why
		}
	}
	if hs.SpoolLost > 0 {
		worse(telemetry.Warning, fmt.Sprintf("%d readings lost from the spool (missing or damaged files; see the log)", hs.SpoolLost))
	}
	if hs.SpoolDiskLow {
		worse(telemetry.Warning, fmt.Sprintf("disk almost full: %d MB free for the spool", max(hs.SpoolDiskFree, 0)>>20))
	}
	if hs.SpoolWriteError != "" {
		worse(telemetry.Critical, "the spool cannot store readings: "+hs.SpoolWriteError)
	}
	if spoolSev != 0 || hs.SpoolMax > 0 {
		set(KindSpool, spoolSev, now, spoolV, spoolWhy)
	}
	// uplink
	d := since(&h.influxFailing, hs.InfluxError != "", now)
	sev := telemetry.Severity(0)
	switch {
	case d > UplinkCrit:
		sev = telemetry.Critical
	case d > UplinkWarn:
		sev = telemetry.Warning
	}
	why := "InfluxDB unreachable: " + hs.InfluxError
	if hs.InfluxRefused != "" {
		sev, why = telemetry.Critical, "the ministry's ingest refuses this gateway's data (dead-lettered): "+hs.InfluxRefused
		if h.influxFailing.IsZero() {
			h.influxFailing = now
		}
	}
	set(KindUplink, sev, h.influxFailing, d.Minutes(), why)
	// clock
	d = since(&h.clockBad, !hs.ClockSynced, now)
	sev = 0
	if d > ClockWarn {
		sev = telemetry.Warning
	}
	set(KindClock, sev, h.clockBad, d.Minutes(), "clock not synchronised")
	// mqtt
	d = since(&h.mqttDown, !hs.MQTTConnected, now)
	sev = 0
	switch {
	case d > MQTTCrit:
		sev = telemetry.Critical
	case d > MQTTWarn:
		sev = telemetry.Warning
	}
	why = "MQTT broker disconnected"
	if hs.MQTTProblem != "" {
		// A known cause does not go away by waiting: raise it at once.
		sev, why = telemetry.Critical, hs.MQTTProblem
		if h.mqttDown.IsZero() {
			h.mqttDown = now
		}
	}
	set(KindMQTT, sev, h.mqttDown, d.Minutes(), why)
}
