package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/zonekind"
)

// Validate checks the config and returns every problem found, each a [*FieldError],
// joined with [errors.Join] and sorted by line; nil when the config is valid. It
// is pure and fast: it reads no files (beyond the time-zone database) and makes no
// network calls, so it does not check that the broker answers or that the secret
// files exist (saqshy-gateway doctor does).
//
// Validate does not apply defaults; a config built in code should call
// [Config.ApplyDefaults] first.
func (c *Config) Validate() error {
	p := &Problems{File: c.File}
	c.check(p)
	return p.Err()
}

// check adds every problem with c to p.
func (c *Config) check(p *Problems) {
	v := &checker{c: c, p: p}
	v.centre()
	v.mqtt()
	v.influx()
	v.spool()
	v.status()
	zones := v.zones()
	v.sensors(zones)
	v.cameras(zones)
	v.coverage(zones)
	v.rounds(zones)
	v.alerts()
	v.score()
	v.alertsMore(zones)
	v.registry()
}

type checker struct {
	c *Config
	p *Problems
}

func (v *checker) line(path string) int { return v.c.pos.line(path) }

func (v *checker) errf(path, format string, args ...any) {
	v.p.Addf(v.line(path), path, format, args...)
}

// where names an earlier element for "first at ..." messages.
func (v *checker) where(path string) string {
	if l := v.line(path); l > 0 {
		return fmt.Sprintf("line %d, %s", l, path)
	}
	return path
}

var idRE = regexp.MustCompile(`^[a-z0-9-]+$`)

const maxIDLen = 64

// id checks an id and reports whether it is usable as a reference target.
func (v *checker) id(path, id string) bool {
	switch {
	case id == "":
		v.errf(path, "required")
		return false
	case len(id) > maxIDLen:
		v.errf(path, "id is %d characters long; keep it under %d", len(id), maxIDLen)
	case !idRE.MatchString(id):
		hint := ""
		if s := slug(id); s != "" && s != id && isASCII(id) {
			hint = fmt.Sprintf(", e.g. %q", s)
		}
		v.errf(path, "invalid id %q: use only lower-case letters, digits and '-'%s", clip(id), hint)
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// slug turns "Room 101" into "room-101".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	if b.Len() > maxIDLen {
		return ""
	}
	return b.String()
}

// ids tracks unique ids in one list.
type ids map[string]string // id -> path of the first element with it

func (v *checker) unique(seen ids, path, id string) {
	if id == "" {
		return
	}
	if first, ok := seen[id]; ok {
		v.errf(path, "duplicate id %q (first at %s)", id, v.where(first))
		return
	}
	seen[id] = path
}

func (v *checker) positive(path string, d Duration) {
	if d <= 0 {
		v.errf(path, "must be greater than zero, got %s", d)
	}
}

// Time zones a Kazakh (or neighbouring) centre may mean, for "did you mean".
var knownTimezones = []string{
	"Asia/Almaty", "Asia/Aqtau", "Asia/Aqtobe", "Asia/Atyrau", "Asia/Oral", "Asia/Qostanay",
	"Asia/Qyzylorda", "Asia/Tashkent", "Asia/Bishkek", "Asia/Dushanbe", "Asia/Ashgabat",
	"Asia/Shanghai", "Asia/Urumqi", "Asia/Novosibirsk", "Asia/Omsk", "Asia/Yekaterinburg",
	"Europe/Moscow", "Europe/London", "UTC",
}

var reOffsetTZ = regexp.MustCompile(`^(?i:utc|gmt)?\s*[+-]\d`)

func (v *checker) centre() {
	c := &v.c.Centre
	v.id("centre.id", c.ID)
	tz := c.Timezone
	switch {
	case tz == "":
		v.errf("centre.timezone", `required: an IANA time zone name such as "Asia/Almaty"`)
	case tz == "Local":
		v.errf("centre.timezone", `"Local" depends on the Pi's own setting: write the centre's zone, e.g. "Asia/Almaty"`)
	case c.Location != nil && c.Location.String() == tz:
		// Resolved already.
	default:
		if _, err := time.LoadLocation(tz); err != nil {
			switch {
			case reOffsetTZ.MatchString(tz):
				v.errf("centre.timezone", `unknown time zone %q: write the IANA name of the place, e.g. "Asia/Almaty", not an offset`, clip(tz))
			default:
				v.errf("centre.timezone", `unknown time zone %q%s: write an IANA name such as "Asia/Almaty"`, clip(tz), DidYouMean(tz, knownTimezones))
			}
		}
	}
}

var mqttSchemes = map[string]bool{"tcp": false, "mqtt": false, "ws": false, "ssl": true, "tls": true, "mqtts": true, "wss": true}

// redact hides a password in a URL for an error message.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = url.User("xxxxx")
		return u.String()
	}
	// Unparsable: hide anything that could be user:password@.
	if i := strings.Index(raw, "://"); i >= 0 {
		if j := strings.LastIndex(raw, "@"); j > i {
			raw = raw[:i+3] + "xxxxx" + raw[j:]
		}
	} else if j := strings.LastIndex(raw, "@"); j >= 0 {
		raw = "xxxxx" + raw[j:]
	}
	return clip(raw)
}

func (v *checker) mqtt() {
	m := &v.c.MQTT
	tlsURL := false
	switch u, err := url.Parse(m.URL); {
	case m.URL == "":
		v.errf("mqtt.url", `required, e.g. %q`, DefaultMQTTURL)
	case err != nil || u.Scheme == "" || !strings.Contains(m.URL, "://"):
		v.errf("mqtt.url", `invalid URL %q: write e.g. "tcp://127.0.0.1:1883" or "ssl://broker.example.org:8883"`, redact(m.URL))
	default:
		secure, ok := mqttSchemes[strings.ToLower(u.Scheme)]
		tlsURL = secure
		switch {
		case !ok:
			v.errf("mqtt.url", "unsupported scheme %q in %q: use tcp://, ssl://, mqtts://, ws:// or wss://", u.Scheme, redact(m.URL))
		case u.User != nil:
			v.errf("mqtt.url", "the URL %q carries credentials: write the user into username and the password into password_file (or %s)", redact(m.URL), EnvMQTTPassword)
		case u.Hostname() == "":
			v.errf("mqtt.url", "the URL %q names no host", redact(m.URL))
		case u.Port() == "" && u.Scheme != "ws" && u.Scheme != "wss":
			port := "1883"
			if secure {
				port = "8883"
			}
			v.errf("mqtt.url", "the URL %q names no port: add it, usually :%s", redact(m.URL), port)
		case u.Port() != "":
			if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
				v.errf("mqtt.url", "invalid port %q in %q", u.Port(), redact(m.URL))
			}
		}
	}
	if m.ClientID == "" && v.c.Centre.ID != "" {
		v.errf("mqtt.client_id", "must not be empty: leave the key out for %q", "saqshy-"+v.c.Centre.ID)
	} else if len(m.ClientID) > 256 {
		v.errf("mqtt.client_id", "too long (%d bytes)", len(m.ClientID))
	}
	if m.CertFile != "" && m.KeyFile == "" {
		v.errf("mqtt.key_file", "required when cert_file is set: a client certificate needs its key")
	}
	if m.KeyFile != "" && m.CertFile == "" {
		v.errf("mqtt.cert_file", "required when key_file is set: a client key needs its certificate")
	}
	if m.URL != "" && !tlsURL {
		for _, f := range []struct{ path, val string }{{"mqtt.ca_file", m.CAFile}, {"mqtt.cert_file", m.CertFile}, {"mqtt.key_file", m.KeyFile}} {
			if f.val != "" {
				v.errf(f.path, "set, but the broker URL %q does not use TLS: use ssl://, mqtts:// or wss://", redact(m.URL))
			}
		}
	}
	if m.MaxInflight < 1 || m.MaxInflight > 65535 {
		v.errf("mqtt.max_inflight", "must be between 1 and 65535, got %d", m.MaxInflight)
	}
	switch {
	case m.KeepAlive <= 0:
		v.positive("mqtt.keep_alive", m.KeepAlive)
	case m.KeepAlive.Std() < time.Second || m.KeepAlive.Std() > 65535*time.Second:
		v.errf("mqtt.keep_alive", "must be between 1s and 18h12m15s (MQTT counts it in whole seconds), got %s", m.KeepAlive)
	}
	v.positive("mqtt.silence_timeout", m.SilenceTimeout)
}

func (v *checker) influx() {
	in := &v.c.Influx
	if in.URL != "" {
		u, err := url.Parse(in.URL)
		switch {
		case err != nil || !strings.Contains(in.URL, "://"):
			v.errf("influx.url", `invalid URL %q: write e.g. "https://influx.example.org" or "http://127.0.0.1:8086"`, redact(in.URL))
		case u.Scheme != "http" && u.Scheme != "https":
			v.errf("influx.url", "unsupported scheme %q in %q: use http:// or https://", u.Scheme, redact(in.URL))
		case u.User != nil:
			v.errf("influx.url", "the URL %q carries credentials: put the token into token_file (or %s)", redact(in.URL), EnvInfluxToken)
		case u.Hostname() == "":
			v.errf("influx.url", "the URL %q names no host", redact(in.URL))
		case u.Query().Has("token") || u.Query().Has("p") || u.Query().Has("u"):
			v.errf("influx.url", "the URL carries credentials in its query: put the token into token_file (or %s)", EnvInfluxToken)
		}
		switch db, rp, hasRP := strings.Cut(in.Bucket, "/"); {
		case in.Bucket == "":
			v.errf("influx.bucket", `required when url is set (for InfluxDB 1.8 write "database/retention-policy")`)
		case db == "" || (hasRP && (rp == "" || strings.Contains(rp, "/"))):
			v.errf("influx.bucket", `invalid bucket %q: write a bucket name, or "database/retention-policy" for InfluxDB 1.8`, clip(in.Bucket))
		}
	}
	if in.BatchSize < 1 || in.BatchSize > 100000 {
		v.errf("influx.batch_size", "must be between 1 and 100000, got %d", in.BatchSize)
	}
	v.positive("influx.flush_interval", in.FlushInterval)
	if f := in.FlushInterval.Std(); f > 0 && (f < time.Second || f > time.Minute) {
		v.errf("influx.flush_interval", "must be between 1s and 1m, got %s (longer: the ministry's ingest would count the centre as quiet between requests)", in.FlushInterval)
	}
	v.positive("influx.timeout", in.Timeout)
	switch sg := in.Sign; {
	case sg.KeyFile == "" && sg.ChainFile != "":
		v.errf("influx.sign.key_file", "required when chain_file is set: the key made by saqshy-gateway keygen, e.g. /etc/saqshy/gateway.key")
	case sg.KeyFile != "" && in.URL == "":
		v.errf("influx.sign", "signing needs influx.url: the ministry's ingest, e.g. https://ingest.example.org")
	}
}

func (v *checker) spool() {
	s := &v.c.Spool
	if strings.TrimSpace(s.Dir) == "" {
		v.errf("spool.dir", "required, e.g. %q", DefaultSpoolDir)
	}
	if s.MaxBytes < MiB {
		v.errf("spool.max_bytes", "must be at least 1MiB, got %s", s.MaxBytes)
	}
}

func (v *checker) status() {
	l := v.c.Status.Listen
	if l == StatusOff {
		return
	}
	host, port, err := net.SplitHostPort(l)
	bad := err != nil
	if !bad {
		n, err := strconv.Atoi(port)
		bad = err != nil || n < 0 || n > 65535 || strings.ContainsAny(host, " /")
	}
	if bad {
		v.errf("status.listen", `invalid address %q: write host:port, e.g. "127.0.0.1:8080" (this Pi only) or ":8080" (the whole network), or "off"`, clip(l))
	}
}

// zones checks the zones and returns them by id.
func (v *checker) zones() map[string]Zone {
	byID := map[string]Zone{}
	seen := ids{}
	for i, z := range v.c.Zones {
		p := fmt.Sprintf("zones[%d]", i)
		if v.id(p+".id", z.ID) {
			v.unique(seen, p+".id", z.ID)
			if _, dup := byID[z.ID]; !dup {
				byID[z.ID] = z
			}
		}
		switch _, ok := zonekind.Lookup(z.Kind); {
		case z.Kind == "":
			v.errf(p+".kind", "required: one of %s", quoteList(zonekind.KindNames()))
		case !ok:
			v.errf(p+".kind", "unknown zone kind %q%s; known kinds: %s", clip(z.Kind), DidYouMean(z.Kind, zonekind.KindNames()), quoteList(zonekind.KindNames()))
		}
	}
	return byID
}

// zoneRef checks a reference to a zone.
func (v *checker) zoneRef(path, ref string, zones map[string]Zone) (Zone, bool) {
	if ref == "" {
		v.errf(path, "required: the id of a zone")
		return Zone{}, false
	}
	z, ok := zones[ref]
	if !ok {
		known := make([]string, 0, len(v.c.Zones))
		for _, z := range v.c.Zones {
			known = append(known, z.ID)
		}
		if len(known) == 0 {
			v.errf(path, "unknown zone %q: no zones are defined (add them under zones:)", clip(ref))
		} else if m := DidYouMean(ref, known); m != "" {
			v.errf(path, "unknown zone %q%s", clip(ref), m)
		} else if len(known) <= 12 {
			v.errf(path, "unknown zone %q; zones defined: %s", clip(ref), quoteList(known))
		} else {
			v.errf(path, "unknown zone %q: add it under zones: or correct the id", clip(ref))
		}
	}
	return z, ok
}

func (v *checker) sensors(zones map[string]Zone) {
	seen := ids{}
	type devKey struct{ device, key string }
	devices := map[devKey]int{}
	sources := SensorSources()
	for i, s := range v.c.Sensors {
		p := fmt.Sprintf("sensors[%d]", i)
		if v.id(p+".id", s.ID) {
			v.unique(seen, p+".id", s.ID)
		}
		v.zoneRef(p+".zone", s.Zone, zones)
		located := false // topic or address fine: the device is known
		switch {
		case s.Source == "":
			v.errf(p+".source", "required: one of %s", quoteList(sources))
		case DefaultInterval(s.Source) == 0:
			v.errf(p+".source", "unknown source %q%s; known sources: %s", clip(s.Source), DidYouMean(s.Source, sources), quoteList(sources))
		case s.Local():
			located = true
			if s.Topic != "" {
				v.errf(p+".topic", "a %s is wired to the Pi and read directly, not over MQTT: remove topic and set address", s.Source)
				located = false
			}
			if s.Key != "" {
				v.errf(p+".key", "a %s wired to the Pi has no sub-sensors: remove key", s.Source)
			}
			if s.Address == "" {
				v.errf(p+".address", "required for a %s wired to the Pi, e.g. %q", s.Source, exampleAddress(s.Source))
				located = false
			} else if err := checkAddress(s.Source, s.Address); err != nil {
				v.errf(p+".address", "%v", err)
				located = false
			}
		default:
			located = true
			if s.Address != "" {
				v.errf(p+".address", "address is only for sensors wired to the Pi (ds18b20, sht3x, sht4x, bme280); a %s sensor is found by its topic", s.Source)
			}
			if s.Topic == "" {
				if s.Source != SourceSaqshy {
					v.errf(p+".topic", "required: the %s device's MQTT topic, e.g. %q", s.Source, exampleTopic(s.Source))
				} else if v.c.Centre.ID != "" {
					// Parse fills it unless the file says topic: "".
					v.errf(p+".topic", "empty: leave the key out for %q (or call ApplyDefaults)", SaqshyTopic(v.c.Centre.ID, s.ID))
				}
				located = false
			} else if err := checkTopic(s.Source, s.Topic, s.Key); err != nil {
				v.errf(p+".topic", "%v", err)
				located = false
			}
			if s.Source == SourceTasmota && tasmotaID.MatchString(s.Key) && strings.ToUpper(s.Key) != s.Key {
				v.errf(p+".key", "Tasmota reports DS18B20 ids in upper case: write %q", strings.ToUpper(s.Key))
			}
		}
		if s.Interval != 0 || DefaultInterval(s.Source) != 0 {
			v.positive(p+".interval", s.Interval)
		}
		if s.Resolution != 0 {
			if s.Source != SourceDS18B20 {
				v.errf(p+".resolution", "resolution is only for a ds18b20 probe: remove it")
			} else if s.Resolution < 9 || s.Resolution > 12 {
				v.errf(p+".resolution", "%d bits: a DS18B20 takes 9 to 12 (12 = 0.0625 °C, 750 ms per reading), or leave it out", s.Resolution)
			}
		}
		if s.Quantity != "" {
			switch {
			case s.Source != SourceShelly || !strings.HasPrefix(s.Key, "bthomesensor:"):
				v.errf(p+".quantity", "quantity is only for a Shelly BLU sensor (source shelly, key \"bthomesensor:N\"): remove it")
			case s.QuantityMetric() == 0:
				v.errf(p+".quantity", "unknown quantity %q%s; known: %s", clip(s.Quantity), DidYouMean(s.Quantity, Quantities()), quoteList(Quantities()))
			}
		}
		if !located {
			continue
		}
		k := devKey{s.Device(), s.Key}
		if j, dup := devices[k]; dup {
			field, key := p+".topic", "no key"
			if s.Local() {
				field = p + ".address"
			} else if s.Key != "" {
				field = p + ".key"
			}
			hint := "configure each device once, or tell its probes apart with key"
			if s.Key != "" {
				key, hint = fmt.Sprintf("key %q", s.Key), "each probe of a device needs its own key"
			}
			v.errf(field, "same device and key as sensor %q (%s): device %q, %s; %s",
				v.c.Sensors[j].ID, v.where(fmt.Sprintf("sensors[%d]", j)), k.device, key, hint)
			continue
		}
		devices[k] = i
	}
}

func exampleAddress(source string) string {
	switch source {
	case SourceDS18B20:
		return "28-0316a2795eff"
	case SourceBME280:
		return "0x76"
	}
	return "0x44"
}

func exampleTopic(source string) string {
	switch source {
	case SourceZigbee2MQTT:
		return "zigbee2mqtt/room-101"
	case SourceTasmota:
		return "tele/fridge-1/SENSOR"
	case SourceESPHome:
		return "room-101-node"
	case SourceShelly:
		return "shellies/shellyht-AB12CD"
	case SourceBLE:
		return "home/OpenMQTTGateway/BTtoMQTT/A4C1385F2B11"
	case SourceChirpStack:
		return "application/1/device/a84041000181c061"
	}
	return "saqshy/<centre>/sensor/<id>"
}

func (v *checker) cameras(zones map[string]Zone) {
	seen := ids{}
	for i, cam := range v.c.Cameras {
		p := fmt.Sprintf("cameras[%d]", i)
		if v.id(p+".id", cam.ID) {
			v.unique(seen, p+".id", cam.ID)
		}
		switch {
		case cam.Source == "":
			v.errf(p+".source", "required: one of %s", quoteList(cameraSources))
		case !contains(cameraSources, cam.Source):
			v.errf(p+".source", "unknown camera source %q%s; known sources: %s", clip(cam.Source), DidYouMean(cam.Source, cameraSources), quoteList(cameraSources))
		}
		if cam.Source == CameraFrigate && strings.ContainsAny(cam.Name, "/+# ") {
			v.errf(p+".name", "Frigate camera name %q must not contain spaces, '/', '+' or '#': write the name from Frigate's config", clip(cam.Name))
		}
		if len(cam.Zones) == 0 {
			v.errf(p+".zones", "required: list the zones this camera shows, e.g. [room-101]")
		}
		mapped := map[string]int{}
		for j, ref := range cam.Zones {
			zp := fmt.Sprintf("%s.zones[%d]", p, j)
			if k, dup := mapped[ref]; dup && ref != "" {
				v.errf(zp, "zone %q is listed twice (also zones[%d])", clip(ref), k)
				continue
			}
			mapped[ref] = j
			z, ok := v.zoneRef(zp, ref, zones)
			if !ok {
				continue
			}
			if k, _ := zonekind.Lookup(z.Kind); k.Private {
				name := cam.ID
				if name == "" {
					name = p
				}
				v.errf(zp, "camera %q must not cover zone %q (kind %s): bathrooms, toilets and changing rooms are private, cameras there are never allowed", name, z.ID, z.Kind)
			}
		}
	}
}

// WindowBounds returns the start and end of the night-round window as offsets from
// midnight. end < start when the window crosses midnight.
func (r Rounds) WindowBounds() (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(r.Window, "-")
	if ok {
		start, err = parseClock(a)
		if err == nil {
			end, err = parseClock(b)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf(`invalid window %q: write "HH:MM-HH:MM", e.g. "22:00-06:00"`, clip(r.Window))
	}
	if start == end%(24*time.Hour) {
		return 0, 0, fmt.Errorf("window %q starts and ends at the same time", r.Window)
	}
	return start, end, nil
}

func parseClock(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func (v *checker) rounds(zones map[string]Zone) {
	r := &v.c.Rounds
	if _, _, err := r.WindowBounds(); err != nil {
		v.errf("rounds.window", "%v", err)
	}
	v.positive("rounds.interval", r.Interval)
	seen := ids{}
	tags := map[string]string{}
	for i, cp := range r.Checkpoints {
		p := fmt.Sprintf("rounds.checkpoints[%d]", i)
		if v.id(p+".id", cp.ID) {
			v.unique(seen, p+".id", cp.ID)
		}
		v.zoneRef(p+".zone", cp.Zone, zones)
		if cp.Tag == "" {
			continue
		}
		t := strings.ToUpper(strings.ReplaceAll(cp.Tag, ":", ""))
		if first, dup := tags[t]; dup {
			v.errf(p+".tag", "tag %q is already on another checkpoint (%s): one tag marks one place", clip(cp.Tag), v.where(first))
			continue
		}
		tags[t] = p
	}
	v.roundsExtra(zones)
}

var telegramChatRE = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$`)

func (v *checker) alerts() {
	for i, r := range v.c.Alerts.Recipients {
		p := fmt.Sprintf("alerts.recipients[%d]", i)
		if strings.TrimSpace(r.Name) == "" {
			v.errf(p+".name", "required: who this is, e.g. \"Director\"")
		}
		if r.Lang == "" {
			v.errf(p+".lang", "empty: write ru, kk or en (or leave lang out for ru)")
		} else if !contains(alertLangs, r.Lang) {
			v.errf(p+".lang", "unknown language %q%s: use ru, kk or en", clip(r.Lang), DidYouMean(r.Lang, alertLangs))
		}
		if r.TelegramChat == "" && r.Email == "" {
			v.errf(p, "no channel: set telegram_chat, email, or both")
		}
		if r.TelegramChat != "" && !telegramChatRE.MatchString(r.TelegramChat) {
			v.errf(p+".telegram_chat", `invalid chat %q: write the numeric chat id ("123456789", "-1001234567890" for a group) or "@channel_name"`, clip(r.TelegramChat))
		}
		if r.Email != "" {
			if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != strings.TrimSpace(r.Email) {
				v.errf(p+".email", "invalid e-mail address %q", clip(r.Email))
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
