package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/internal/listen"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// kinds of things doctor listens for.
const (
	kindSensor     = "sensor"
	kindCamera     = "camera"
	kindCheckpoint = "checkpoint"
)

// watched is one configured sensor, camera or checkpoint doctor listens for.
type watched struct {
	kind, id, label string // label: "room-101-t — Room 101 (room-101)"
	where           string // what doctor listens on, for the "nothing heard" line
	filters         []string
	// match returns whether the message is about this thing; it updates the state.
	match func(w *watched, m listen.Message, now time.Time, since time.Duration)

	// state, guarded by tracker.mu
	heard    bool      // any message at all
	fresh    bool      // a reading within since
	at       time.Time // the newest reading's time (zero: age unknown)
	retained bool      // the newest reading was a retained copy
	value    string    // the newest reading in words
	online   *bool     // latest availability
	rejected int       // messages its decoder rejected
	reason   string    // the latest rejection
}

type tracker struct {
	mu    sync.Mutex
	items []*watched
	since time.Duration
	now   func() time.Time
	done  chan struct{} // closed when every sensor and camera is fresh
	once  sync.Once
}

func (t *tracker) observe(m listen.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, w := range t.items {
		w.match(w, m, now, t.since)
	}
	for _, w := range t.items {
		if w.kind != kindCheckpoint && !w.fresh {
			return
		}
	}
	t.once.Do(func() { close(t.done) })
}

func (t *tracker) filters() []string {
	var fs []string
	for _, w := range t.items {
		fs = append(fs, w.filters...)
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

// reading records a reading at t (zero: unknown age) if it is newer than the one held.
func (w *watched) reading(value string, t time.Time, retained bool, now time.Time, since time.Duration) {
	w.heard = true
	fresh := t.IsZero() || now.Sub(t) <= since
	if w.fresh && !fresh {
		return // keep the fresh reading
	}
	if !w.at.IsZero() && !t.IsZero() && t.Before(w.at) && w.fresh == fresh {
		return
	}
	w.fresh, w.at, w.retained, w.value = fresh, t, retained, value
}

func zoneLabel(cfg *config.Config, zone string) string {
	for _, z := range cfg.Zones {
		if z.ID == zone && z.Name != "" {
			return fmt.Sprintf("%s (%s)", z.Name, z.ID)
		}
	}
	return zone
}

func newTracker(cfg *config.Config, opt *Options) *tracker {
	t := &tracker{since: opt.Since, now: opt.Now, done: make(chan struct{})}
	for _, s := range cfg.Sensors {
		if s.Local() {
			continue
		}
		dec, err := decode.New(s.Source, cfg.Centre.Location)
		if err != nil {
			continue // Validate accepted the source, so the decoder exists
		}
		base, key := s.Device(), s.Key
		w := &watched{kind: kindSensor, id: s.ID, label: fmt.Sprintf("%s — %s", s.ID, zoneLabel(cfg, s.Zone)),
			where: base, filters: []string{base + "/#"}} // base/# matches base too
		w.match = func(w *watched, m listen.Message, now time.Time, since time.Duration) {
			if m.Topic != base && !strings.HasPrefix(m.Topic, base+"/") {
				return
			}
			samples, err := dec(m.Topic, m.Payload)
			if errors.Is(err, telemetry.ErrIgnored) {
				w.heard = true
				return
			}
			if telemetry.AsPartial(err) != nil { // good fields kept, bad ones named
				w.rejected++
				w.reason = err.Error()
				err = nil
			}
			if err != nil {
				w.heard = true
				w.rejected++
				w.reason = err.Error()
				return
			}
			for _, sm := range samples {
				if sm.Device != base || (key != "" && sm.Key != "" && sm.Key != key) {
					continue
				}
				if v, ok := words(sm.Values); ok {
					at := sm.Time
					if at.IsZero() && !m.Retained {
						at = m.Received
					}
					w.reading(v, at, m.Retained, now, since)
				}
				for _, v := range sm.Values {
					if v.Metric == telemetry.Online {
						on := v.V == 1
						w.online, w.heard = &on, true
					}
				}
			}
		}
		t.items = append(t.items, w)
	}
	for _, c := range cfg.Cameras {
		zones := make([]string, len(c.Zones))
		for i, z := range c.Zones {
			zones[i] = zoneLabel(cfg, z)
		}
		w := &watched{kind: kindCamera, id: c.ID, label: fmt.Sprintf("%s — %s", c.ID, strings.Join(zones, ", "))}
		switch c.Source {
		case config.CameraFrigate:
			name := c.Name
			if name == "" {
				name = c.ID
			}
			w.where = "frigate/stats and frigate/" + name + "/#"
			w.filters = []string{"frigate/stats", "frigate/" + name + "/#"}
			w.match = func(w *watched, m listen.Message, now time.Time, since time.Duration) {
				switch {
				case m.Topic == "frigate/stats":
					var st struct {
						Cameras map[string]struct {
							CameraFPS float64 `json:"camera_fps"`
						} `json:"cameras"`
					}
					if json.Unmarshal(m.Payload, &st) != nil {
						return
					}
					if cs, ok := st.Cameras[name]; ok {
						w.heard = true
						if cs.CameraFPS > 0 {
							w.reading(fmt.Sprintf("%.1f fps", cs.CameraFPS), arrival(m), m.Retained, now, since)
						} else {
							w.value = "0 fps: Frigate gets no picture"
						}
					}
				case strings.HasPrefix(m.Topic, "frigate/"+name+"/"):
					w.heard = true
					if m.Retained {
						// Frigate keeps its per-camera switches retained: the camera
						// is known to Frigate, but that says nothing about its picture.
						if w.value == "" {
							w.value = "known to Frigate; waiting for frigate/stats"
						}
						return
					}
					w.reading("events from Frigate", m.Received, false, now, since)
				}
			}
		case config.CameraSaqshy:
			base := "saqshy/" + cfg.Centre.ID + "/camera/" + c.ID
			w.where = base + "/#"
			w.filters = []string{base + "/#"}
			w.match = func(w *watched, m listen.Message, now time.Time, since time.Duration) {
				switch m.Topic {
				case base + "/status":
					on := strings.EqualFold(strings.TrimSpace(string(m.Payload)), "online")
					w.online, w.heard = &on, true
				case base + "/health":
					w.reading("health report", arrival(m), m.Retained, now, since)
				}
			}
		default:
			// A generic camera has nothing on MQTT to listen to.
			w.where = ""
			w.match = func(*watched, listen.Message, time.Time, time.Duration) {}
		}
		t.items = append(t.items, w)
	}
	for _, cp := range cfg.Rounds.Checkpoints {
		topic := "saqshy/" + cfg.Centre.ID + "/round/" + cp.ID + "/scan"
		w := &watched{kind: kindCheckpoint, id: cp.ID, label: fmt.Sprintf("%s — %s", cp.ID, zoneLabel(cfg, cp.Zone)),
			where: topic, filters: []string{topic}}
		w.match = func(w *watched, m listen.Message, now time.Time, since time.Duration) {
			if m.Topic == topic {
				w.reading("scanned", arrival(m), m.Retained, now, since)
			}
		}
		t.items = append(t.items, w)
	}
	return t
}

// arrival is when a message without a time of its own was sent: when it arrived,
// or unknown (zero) for a retained copy.
func arrival(m listen.Message) time.Time {
	if m.Retained {
		return time.Time{}
	}
	return m.Received
}

// words says a sample's readings, e.g. "21.3 °C, 45 %"; false when it has none.
func words(vs []telemetry.Value) (string, bool) {
	var parts []string
	for _, v := range vs {
		switch v.Metric {
		case telemetry.Temperature:
			parts = append(parts, fmt.Sprintf("%.1f °C", v.V))
		case telemetry.Humidity:
			parts = append(parts, fmt.Sprintf("%.0f %% RH", v.V))
		}
	}
	return strings.Join(parts, ", "), len(parts) > 0
}

func checkMQTT(ctx context.Context, cfg *config.Config, opt *Options) []Check {
	tr := newTracker(cfg, opt)
	var checks []Check
	mq := Check{Name: "mqtt"}
	pass := opt.MQTTPassword
	if pass == "" {
		var err error
		if pass, err = cfg.MQTTPassword(); err != nil {
			mq.Status, mq.Title = Fail, fmt.Sprintf("MQTT password cannot be read: %v", err)
			mq.Fix = "run doctor as root or as the saqshy user (sudo -u saqshy saqshy-gateway doctor …), and check mqtt.password_file"
			return append([]Check{mq}, skipped(tr, "the MQTT password cannot be read")...)
		}
	}
	user := "anonymous"
	if cfg.MQTT.Username != "" {
		user = fmt.Sprintf("user %q", cfg.MQTT.Username)
	}
	// The probe: a message doctor publishes on a topic it subscribes to must come
	// back, or the broker accepts subscriptions it does not deliver (an ACL).
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	probeTopic := "saqshy/" + cfg.Centre.ID + "/gateway/doctor-probe"
	probePayload := hex.EncodeToString(nonce[:])
	probeBack := make(chan struct{})
	var probeOnce sync.Once
	conn, err := listen.Dial(ctx, listen.Options{
		URL: cfg.MQTT.URL, Username: cfg.MQTT.Username, Password: pass,
		CAFile: cfg.MQTT.CAFile, CertFile: cfg.MQTT.CertFile, KeyFile: cfg.MQTT.KeyFile,
		ClientPrefix: "saqshy-doctor", Handle: func(m listen.Message) {
			if m.Topic == probeTopic {
				if string(m.Payload) == probePayload {
					probeOnce.Do(func() { close(probeBack) })
				}
				return
			}
			tr.observe(m)
		},
	})
	switch {
	case errors.Is(err, listen.ErrRefused):
		mq.Status, mq.Title = Fail, fmt.Sprintf("MQTT broker %s refused %s: wrong user name or password", cfg.MQTT.URL, user)
		mq.Fix = fmt.Sprintf("put the right password in %s (one line), or set it on the broker: sudo mosquitto_passwd /etc/mosquitto/saqshy.passwd %s && sudo systemctl restart mosquitto",
			orDefault(cfg.MQTT.PasswordFile, "mqtt.password_file"), orDefault(cfg.MQTT.Username, "saqshy"))
	case err != nil:
		mq.Status, mq.Title = Fail, fmt.Sprintf("MQTT broker %s is not reachable: %v", cfg.MQTT.URL, err)
		mq.Fix = "check that Mosquitto runs (systemctl status mosquitto; sudo systemctl restart mosquitto) and that mqtt.url names its address and port"
	}
	if err != nil {
		return append([]Check{mq}, skipped(tr, "the MQTT broker is not available")...)
	}
	defer conn.Close()
	if err := conn.Subscribe(ctx, tr.filters()); err != nil {
		mq.Status, mq.Title = Fail, fmt.Sprintf("MQTT broker %s accepted %s but refused to deliver the sensors' topics: %v", cfg.MQTT.URL, user, err)
		mq.Fix = "let this user read the sensors' topics in the broker's ACL (firmware-config/mosquitto/saqshy.acl)"
		return append([]Check{mq}, skipped(tr, "the broker refused the subscription")...)
	}
	if !probe(ctx, conn, probeTopic, probePayload, probeBack) {
		mq.Status, mq.Title = Fail, fmt.Sprintf("MQTT broker %s accepted %s and its subscriptions but delivers nothing: a message doctor published on %s never came back", cfg.MQTT.URL, user, probeTopic)
		mq.Fix = fmt.Sprintf("let %s read every topic and write saqshy/# in the broker's ACL (\"topic read #\" and \"topic readwrite saqshy/#\" under \"user %s\", firmware-config/mosquitto/saqshy.acl), then sudo systemctl restart mosquitto",
			user, orDefault(cfg.MQTT.Username, "saqshy"))
		return append([]Check{mq}, skipped(tr, "the broker delivers nothing")...)
	}
	mq.Status, mq.Title = Pass, fmt.Sprintf("MQTT broker %s is reachable and accepted %s", cfg.MQTT.URL, user)
	checks = append(checks, mq)

	if len(tr.items) > 0 {
		fmt.Fprintf(opt.Progress, "doctor: listening on the broker for up to %s for %d sensors, cameras and checkpoints…\n",
			opt.Listen, len(tr.items))
		timer := time.NewTimer(opt.Listen)
		select {
		case <-tr.done:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append(checks, tr.checks(cfg, opt)...)
}

// probeWait bounds how long doctor waits for its probe to come back.
const probeWait = 5 * time.Second

// probe subscribes to topic, publishes payload on it and reports whether it came back
// (back is closed) within probeWait.
func probe(ctx context.Context, conn *listen.Conn, topic, payload string, back <-chan struct{}) bool {
	if err := conn.Subscribe(ctx, []string{topic}); err != nil {
		return false
	}
	if err := conn.Publish(ctx, topic, []byte(payload)); err != nil {
		return false
	}
	t := time.NewTimer(probeWait)
	defer t.Stop()
	select {
	case <-back:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// skipped returns the listening checks, each skipped because of why.
func skipped(tr *tracker, why string) []Check {
	var out []Check
	for _, k := range []string{kindSensor, kindCamera, kindCheckpoint} {
		n := 0
		for _, w := range tr.items {
			if w.kind == k {
				n++
			}
		}
		if n > 0 {
			out = append(out, Check{Name: k + "s", Status: Skip, Title: fmt.Sprintf("%d %ss not checked: %s", n, k, why)})
		}
	}
	return out
}

func localCount(cfg *config.Config) int {
	n := 0
	for _, s := range cfg.Sensors {
		if s.Local() {
			n++
		}
	}
	return n
}

// checks turns the tracker's state into the sensors, cameras and checkpoints checks.
func (t *tracker) checks(cfg *config.Config, opt *Options) []Check {
	now := opt.Now()
	var out []Check
	for _, k := range []string{kindSensor, kindCamera, kindCheckpoint} {
		var items []Item
		total, ok := 0, 0
		for _, w := range t.items {
			if w.kind != k {
				continue
			}
			total++
			it := w.item(now, opt)
			if it.Status == Pass {
				ok++
			}
			items = append(items, it)
		}
		if total == 0 {
			continue
		}
		c := Check{Name: k + "s", Items: items}
		noun := k + "s"
		c.Title = fmt.Sprintf("%d of %d %s reported in the last %s", ok, total, noun, short(opt.Since))
		switch {
		case ok == total:
			c.Status = Pass
			c.Title = fmt.Sprintf("All %d %s reported in the last %s", total, noun, short(opt.Since))
		case k == kindCheckpoint:
			c.Status = Warn
			c.Fix = "checkpoints report only when scanned: scan each tag once (or press its button) while doctor runs to test it"
		case k == kindCamera:
			c.Status = Fail
			c.Fix = "for each camera marked ✗: check it has power and network, and that Frigate (or the prober) is running and has it under the name in the config"
		default:
			c.Status = Fail
			c.Fix = "for each sensor marked ✗: check its battery or power and that it is in radio range;\n" +
				"check its topic in the config is what the device publishes (saqshy-gateway discover --mqtt URL lists them);\n" +
				fmt.Sprintf("a device that reports rarely (Tasmota every 5 min) may need a longer --listen (now %s)", short(opt.Listen))
		}
		out = append(out, c)
	}
	if n := localCount(cfg); n > 0 {
		out = append(out, Check{Name: "local", Status: Skip, Title: fmt.Sprintf("%d sensors wired to the Pi: see the buses check below, and `saqshy-gateway sensors` for a reading of each", n)})
	}
	return out
}

func (w *watched) item(now time.Time, opt *Options) Item {
	avail := ""
	if w.online != nil {
		avail = ", device says online"
		if !*w.online {
			avail = ", device says OFFLINE"
		}
	}
	switch {
	case w.where == "" && w.kind == kindCamera:
		return Item{Skip, w.label + ": a generic camera is not watched over MQTT; check it on the recorder"}
	case w.fresh:
		age := "age unknown (the broker's retained copy)"
		if !w.at.IsZero() {
			age = short(now.Sub(w.at).Round(time.Second)) + " ago"
			if w.retained {
				age += " (retained)"
			}
		}
		return Item{Pass, fmt.Sprintf("%s: %s, %s%s", w.label, w.value, age, avail)}
	case w.rejected > 0:
		return Item{Fail, fmt.Sprintf("%s: %d messages rejected, last: %s", w.label, w.rejected, w.reason)}
	case !w.at.IsZero():
		return Item{Fail, fmt.Sprintf("%s: last reading %s ago (%s)%s", w.label, short(now.Sub(w.at).Round(time.Minute)), w.value, avail)}
	case w.heard:
		detail := w.value
		if detail == "" {
			detail = "messages but no reading"
		}
		return Item{Fail, fmt.Sprintf("%s: %s in %s%s", w.label, detail, short(opt.Listen), avail)}
	}
	if w.kind == kindCheckpoint {
		return Item{Warn, fmt.Sprintf("%s: not scanned in the last %s (%s)", w.label, short(opt.Since), w.where)}
	}
	return Item{Fail, fmt.Sprintf("%s: nothing heard on %s in %s", w.label, w.where, short(opt.Listen))}
}

// short formats d without trailing zero units: 10m, 1h30m, 45s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
