package gateway

import (
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// healthEvery is the period of the gateway's own `gateway` point: the heartbeat the
// monitoring room uses to tell a silent gateway from a quiet centre.
const healthEvery = time.Minute

// health is the check that writes the gateway's own state as a `gateway` point once
// a minute (and at start): uptime, spool size and backlog, what was dropped or
// rejected, whether MQTT is connected and the clock synchronised, the registry version
// it runs (0: unrated) and the hash of its effective config.
type health struct {
	stats func() Stats
	// registry is the registry version in force (0: unrated) and hash the
	// registry.EffectiveHash of the effective config; both fixed at start.
	registry int64
	hash     string
	next     time.Time // only touched by Tick (one goroutine)
}

func (h *health) Name() string { return "gateway" }

func (h *health) Tick(now time.Time, synced bool) []telemetry.Event {
	if now.Before(h.next) {
		return nil
	}
	h.next = now.Truncate(healthEvery).Add(healthEvery)
	st := h.stats()
	ev := telemetry.Heartbeat{
		Uptime: st.Uptime, SpoolBytes: st.SpoolBytes, SpoolBacklog: st.SpoolBacklog,
		Dropped: int64(st.SpoolDropped), Rejected: int64(st.Rejected), Received: int64(st.Received),
		MQTTConnected: st.MQTTConnected, ClockSynced: synced, InfluxOK: st.InfluxError == "",
		RegistryVersion: h.registry, ConfigHash: h.hash,
	}.Point(now)
	if !synced {
		ev.Flags |= telemetry.ClockUnsynced
	}
	return []telemetry.Event{ev}
}
