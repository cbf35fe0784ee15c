package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

// registrySource answers which registry version each gateway reports in its
// heartbeat (Store.GatewayRegistry).
type registrySource interface {
	GatewayRegistry(ctx context.Context, from time.Time) (map[string]store.RegistryReport, error)
}

// signedSource lists the signed bundles per centre (regsvc.Service.Signed).
type signedSource interface {
	Signed() map[string][]store.SignedBundle
}

// regIncident is an open registry incident of a centre.
type regIncident struct {
	ID      string    `json:"id"`
	Problem string    `json:"problem"` // store.RegistryUnrated, RegistryOld or RegistryUnknown
	Since   time.Time `json:"since"`
	Text    string    `json:"text"`
	announcement
}

func (in *regIncident) incidentID() string       { return in.ID }
func (in *regIncident) announced() *announcement { return &in.announcement }

type registryWatchState struct {
	alerts[*regIncident]
}

// RegistryWatcher raises a centre whose gateway does not run the registry version
// in force like a silent gateway: for every centre with a signed bundle in effect
// (its not-before time or its publication, whichever is later, plus Grace: the
// time a gateway has to fetch it), a heartbeat that says unrated (registry_version
// 0 or absent) or another version opens an incident, announced once to the
// monitor's channels and resolved when the gateway reports the version in force.
// A gateway sending no heartbeat at all is the silent-gateway watch's, not this.
// Its state (open incidents, undelivered resolutions) survives a restart.
type RegistryWatcher struct {
	watch[*regIncident]
	src    registrySource
	signed signedSource
	names  map[string]store.CentreInfo
	grace  time.Duration
	now    func() time.Time

	// guarded by mu:
	st     registryWatchState
	states map[string]store.RegistryState
}

// NewRegistryWatcher loads the state file (registry.json) from dir. centres name
// the registered centres in messages.
func NewRegistryWatcher(src registrySource, signed signedSource, n Notifier, centres []store.CentreInfo, grace time.Duration, dir string, log *slog.Logger, now func() time.Time) (*RegistryWatcher, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &RegistryWatcher{watch: watch[*regIncident]{notify: n, log: log, path: filepath.Join(dir, "registry.json")},
		src: src, signed: signed, grace: grace, now: now, names: map[string]store.CentreInfo{}, states: map[string]store.RegistryState{}}
	for _, c := range centres {
		w.names[c.ID] = c
	}
	w.st.Open = map[string]*regIncident{}
	if _, err := loadState(w.path, "registry watch", &w.st); err != nil {
		return nil, err
	}
	if w.st.Open == nil {
		w.st.Open = map[string]*regIncident{}
	}
	return w, nil
}

// judge compares a gateway's report with the signed bundles of its centre.
func judge(list []store.SignedBundle, rep store.RegistryReport, reported bool, grace time.Duration, now time.Time) store.RegistryState {
	st := store.RegistryState{Reported: reported && rep.HasVersion, Version: rep.Version, ConfigHash: rep.ConfigHash}
	for _, b := range list {
		st.Latest = max(st.Latest, b.Version)
		if !b.InEffect().Add(grace).After(now) {
			st.InForce = max(st.InForce, b.Version)
		}
	}
	switch {
	case !reported || st.InForce == 0:
		// No heartbeat: the silent-gateway watch's. No bundle in force: nothing to run.
		if st.Latest > 0 && st.Reported && st.Version > st.Latest {
			st.Problem = store.RegistryUnknown
		}
	case !st.Reported || st.Version == 0:
		st.Problem = store.RegistryUnrated
	case st.Version < st.InForce:
		st.Problem = store.RegistryOld
	case st.Version > st.Latest:
		st.Problem = store.RegistryUnknown
	}
	return st
}

func (w *RegistryWatcher) text(c store.CentreInfo, st store.RegistryState) string {
	switch st.Problem {
	case store.RegistryUnrated:
		return fmt.Sprintf("Gateway of %s (%s, %s) runs no registry (score unrated); registry v%d is in force", c.Name, c.ID, c.Region, st.InForce)
	case store.RegistryOld:
		return fmt.Sprintf("Gateway of %s (%s, %s) runs registry v%d; v%d is in force", c.Name, c.ID, c.Region, st.Version, st.InForce)
	}
	return fmt.Sprintf("Gateway of %s (%s, %s) runs registry v%d, which the ministry has not signed (latest signed v%d)", c.Name, c.ID, c.Region, st.Version, st.Latest)
}

// Poll reads the gateways' latest heartbeats, updates the incidents and delivers
// what is due.
func (w *RegistryWatcher) Poll(ctx context.Context) error {
	w.pollMu.Lock()
	defer w.pollMu.Unlock()
	now := w.now()
	reps, err := w.src.GatewayRegistry(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return err // InfluxDB down is not every gateway unrated
	}
	signed := w.signed.Signed()
	dests := destinationsOf(w.notify)
	w.mu.Lock()
	states := map[string]store.RegistryState{}
	var out []pendingMessage
	centres := make([]string, 0, len(signed))
	for c := range signed {
		centres = append(centres, c)
	}
	for c := range w.st.Open {
		if _, ok := signed[c]; !ok {
			centres = append(centres, c) // its bundles were removed: resolve
		}
	}
	slices.Sort(centres)
	for _, id := range centres {
		info, ok := w.names[id]
		if !ok {
			info = store.CentreInfo{ID: id, Name: id}
		}
		rep, reported := reps[id]
		st := judge(signed[id], rep, reported, w.grace, now)
		in := w.st.Open[id]
		if in != nil && in.Problem != st.Problem {
			delete(w.st.Open, id)
			w.log.Info("gateway registry resolved", "centre", id, "was", in.Problem, "now", st.Problem)
			w.st.Unsent = in.resolution(w.st.Unsent, Message{
				Type: "registry_version", State: "resolved", ID: in.ID, Centre: id, Name: info.Name, Region: info.Region, Since: in.Since,
				Text: fmt.Sprintf("Gateway of %s (%s) no longer: %s", info.Name, id, in.Text)})
			in = nil
		}
		if in == nil && st.Problem != "" {
			in = &regIncident{ID: fmt.Sprintf("registry-%s-%d", id, now.Unix()), Problem: st.Problem, Since: now, Text: w.text(info, st)}
			w.st.Open[id] = in
			w.log.Warn("gateway registry", "centre", id, "problem", st.Problem, "runs", st.Version, "in_force", st.InForce)
		}
		if in != nil {
			st.Since = in.Since
		}
		if signed[id] != nil {
			states[id] = st
		}
		if in == nil {
			continue
		}
		if to := in.due(dests); len(to) > 0 {
			out = append(out, pendingMessage{To: to, Message: Message{Type: "registry_version", State: "firing", ID: in.ID, Centre: id,
				Name: info.Name, Region: info.Region, Since: in.Since, Text: in.Text}})
		}
	}
	for id, rep := range reps { // centres without bundles: shown, never raised
		if _, ok := states[id]; !ok {
			states[id] = store.RegistryState{Reported: rep.HasVersion, Version: rep.Version, ConfigHash: rep.ConfigHash}
		}
	}
	w.states = states
	return w.finish(ctx, now, dests, &w.st.alerts, out, &w.st)
}

// States returns the registry state of every centre with a signed bundle or a
// heartbeat carrying a registry version, as of the last poll.
func (w *RegistryWatcher) States() map[string]store.RegistryState {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]store.RegistryState, len(w.states))
	for k, v := range w.states {
		out[k] = v
	}
	return out
}

// Run polls every interval until ctx ends.
func (w *RegistryWatcher) Run(ctx context.Context, every time.Duration) {
	w.run(ctx, every, "registry poll", w.Poll)
}
