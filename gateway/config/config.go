package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
	_ "time/tzdata" // time zones resolve on images without /usr/share/zoneinfo
)

// Config is one centre's configuration, as loaded from its YAML file.
type Config struct {
	// File is the path the config was loaded from; empty when built in code.
	File    string   `yaml:"-"`
	Centre  Centre   `yaml:"centre"`
	MQTT    MQTT     `yaml:"mqtt"`
	Influx  Influx   `yaml:"influx"`
	Spool   Spool    `yaml:"spool"`
	Status  Status   `yaml:"status"`
	Zones   []Zone   `yaml:"zones"`
	Sensors []Sensor `yaml:"sensors"`
	Cameras []Camera `yaml:"cameras"`
	Rounds  Rounds   `yaml:"rounds"`
	Alerts  Alerts   `yaml:"alerts"`
	Score   Score    `yaml:"score"`
	// Coverage tunes the camera coverage rules (see cameras.go).
	Coverage Coverage `yaml:"coverage"`
	// Registry pins the ministry's registry (registry.go); absent: unrated.
	Registry Registry `yaml:"registry"`

	// pos maps field paths to lines of File; nil for a config built in code.
	pos *positions
}

// Centre identifies the centre.
type Centre struct {
	// ID is required: lower-case letters, digits and '-'. It is a segment of every
	// MQTT topic and the "centre" tag of every InfluxDB point.
	ID string `yaml:"id"`
	// Name is the centre's human name.
	Name string `yaml:"name"`
	// Timezone is an IANA time zone name; default "Asia/Almaty". Night rounds and
	// the daily score follow it.
	Timezone string `yaml:"timezone"`
	// Location is Timezone resolved; filled by [Parse] and [Config.ApplyDefaults].
	Location *time.Location `yaml:"-"`
}

// MQTT says how to reach the broker the sensors publish to.
type MQTT struct {
	// URL of the broker: tcp://, mqtt://, ssl://, tls://, mqtts://, ws:// or wss://.
	// Default tcp://127.0.0.1:1884: the loopback listener of the shipped Mosquitto
	// config (firmware-config/mosquitto/saqshy.conf), where client ids are not bound
	// to user names.
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	// PasswordFile names a file holding the password; SAQSHY_MQTT_PASSWORD overrides
	// it. See [Config.MQTTPassword].
	PasswordFile string `yaml:"password_file"`
	// ClientID must stay the same across restarts: the broker keeps the persistent
	// session (and the messages queued while the gateway was down) under it.
	// Default "saqshy-<centre id>".
	ClientID string `yaml:"client_id"`
	// CAFile is a PEM bundle to verify the broker; empty uses the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate and key (PEM), set together.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// MaxInflight bounds messages received but not yet durable (1..65535, default 256).
	MaxInflight int `yaml:"max_inflight"`
	// KeepAlive is the MQTT keep-alive period (default 30s).
	KeepAlive Duration `yaml:"keep_alive"`
	// SilenceTimeout: the connection is up but nothing arrived for this long, so
	// something upstream is broken (default 10m).
	SilenceTimeout Duration `yaml:"silence_timeout"`
}

// Influx says where the data goes. An empty URL means spool only: data is kept on
// disk (bounded by the spool size) until a URL is configured.
type Influx struct {
	// URL is http:// or https://; empty for spool only.
	URL string `yaml:"url"`
	// Org is the InfluxDB 2.x organisation; ignored by InfluxDB 1.8.
	Org string `yaml:"org"`
	// Bucket is required when URL is set; for InfluxDB 1.8 write "database/retention-policy"
	// (or just "database" for the default policy).
	Bucket string `yaml:"bucket"`
	// TokenFile names a file holding the API token; SAQSHY_INFLUX_TOKEN overrides it.
	// For InfluxDB 1.8 the token is "username:password". See [Config.InfluxToken].
	TokenFile string `yaml:"token_file"`
	// BatchSize is the most points per write (1..100000, default 5000).
	BatchSize int `yaml:"batch_size"`
	// FlushInterval spaces the write requests of live data: after a request of a
	// few points the next waits this long, so that a trickle of readings shares a
	// request (a request's head costs a mobile uplink more than its points). A
	// backlog is sent in full batches at once. 1s..1m, default 10s.
	FlushInterval Duration `yaml:"flush_interval"`
	// Timeout bounds one write request (default 10s).
	Timeout Duration `yaml:"timeout"`
	// Sign makes every write a signed link of this gateway's chain, for the
	// ministry's verifying ingest (saqshy-ingest; docs/RATING.md). Off when
	// key_file is empty: an unrated private home writes to its own InfluxDB.
	Sign Sign `yaml:"sign"`
}

// Sign names the gateway's identity and chain state.
type Sign struct {
	// KeyFile is the gateway's Ed25519 private key (saqshy-gateway keygen; mode
	// 0600, e.g. /etc/saqshy/gateway.key). Empty: writes are not signed.
	KeyFile string `yaml:"key_file"`
	// ChainFile holds the chain's head and pending link; it lives with the spool
	// (default <spool.dir>/chain.json) and must never be restored from a backup.
	ChainFile string `yaml:"chain_file"`
}

// Enabled reports whether writes are signed.
func (s Sign) Enabled() bool { return s.KeyFile != "" }

// Spool is the on-disk buffer between the sensors and InfluxDB.
type Spool struct {
	// Dir holds the spool files (default /var/lib/saqshy/spool).
	Dir string `yaml:"dir"`
	// MaxBytes bounds the spool on disk (default 2GiB, at least 1MiB). When full,
	// the oldest data is dropped, counted and alerted.
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// Status is the local status page for the technician.
type Status struct {
	// Listen is host:port (default 127.0.0.1:8080; ":8080" listens on every interface;
	// port 0 picks a free port; "off" disables the page).
	Listen string `yaml:"listen"`
	// PasswordFile names a file holding the bcrypt hash of the page's password
	// (saqshy-gateway hash-password writes one). Empty: the page is open to anyone
	// who can reach it, and says so. /healthz, /readyz and /metrics stay open.
	PasswordFile string `yaml:"password_file"`
}

// Zone is a place in the centre.
type Zone struct {
	// ID is unique among zones: lower-case letters, digits and '-'.
	ID string `yaml:"id"`
	// Kind is one of the zone-kind table's kinds (zonekind.KindNames, docs/ZONES.md).
	Kind string `yaml:"kind"`
	// Name is the zone's human name, used in alerts.
	Name string `yaml:"name"`
	// Coverage overrides the kind's camera coverage rule for this zone: required,
	// optional or prohibited (see [Config.ZoneCoverage]). A private kind stays
	// prohibited.
	Coverage string `yaml:"coverage,omitempty"`
	// Cameras is how many healthy cameras a required zone needs at once (default 1).
	Cameras int `yaml:"cameras,omitempty"`
}

// Camera maps a camera to the zones it shows. Cameras may never show a private zone
// (bathroom, toilet, changing room).
type Camera struct {
	// ID is unique among cameras: lower-case letters, digits and '-'.
	ID string `yaml:"id"`
	// Zones lists the ids of the zones this camera shows (at least one).
	Zones []string `yaml:"zones"`
	// Source is frigate, saqshy (the built-in prober) or generic.
	Source string `yaml:"source"`
	// Name is the camera's name in its source (Frigate's camera name, default the
	// id) or a label.
	Name string `yaml:"name"`

	// Topic: for frigate, Frigate's topic prefix (default "frigate"); for generic,
	// the status topic (required); for saqshy, the health topic (default
	// saqshy/<centre>/camera/<id>/health).
	Topic string `yaml:"topic,omitempty"`
	// Field (generic) is the dotted path of the JSON field holding the status, e.g.
	// "state" or "attributes.connected"; empty takes the whole payload.
	Field string `yaml:"field,omitempty"`
	// Online (generic) lists the values that mean online, compared without case
	// (default online, on, true, 1, ok); any other value means offline.
	Online []string `yaml:"online,omitempty"`
	// MinFPS is the frame-rate floor: below it a camera is degraded (frigate;
	// default 1).
	MinFPS float64 `yaml:"min_fps,omitempty"`
	// StatsInterval (frigate) is Frigate's mqtt.stats_interval (default 60s). With
	// no stats for 3 intervals every camera of that Frigate is unknown.
	StatsInterval Duration `yaml:"stats_interval,omitempty"`
	// FrigateAPI (frigate) is Frigate's HTTP API, e.g. "http://127.0.0.1:5000":
	// when set, the gateway fetches the camera's latest frame
	// (<frigate_api>/api/<name>/latest.jpg) every few minutes to check that it
	// sees its zones (covered, blacked out, frozen, turned away). The frame is
	// judged in memory and never stored or sent.
	FrigateAPI string `yaml:"frigate_api,omitempty"`
	// StaleAfter (generic, saqshy): with no message for this long the camera is
	// unknown. Default for saqshy 3 × interval; for generic 0, never (event-driven
	// bridges publish only on change).
	StaleAfter Duration `yaml:"stale_after,omitempty"`

	// RTSPURL or SnapshotURL (saqshy) make the gateway probe the camera itself:
	// RTSP OPTIONS and DESCRIBE, or an HTTP GET of a JPEG snapshot. No credentials
	// in the URL: Username and PasswordFile.
	RTSPURL      string `yaml:"rtsp_url,omitempty"`
	SnapshotURL  string `yaml:"snapshot_url,omitempty"`
	Username     string `yaml:"username,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	// Interval is how often the prober checks the camera (default 30s); Timeout
	// bounds one check (default 5s).
	Interval Duration `yaml:"interval,omitempty"`
	Timeout  Duration `yaml:"timeout,omitempty"`
}

// Camera sources.
const (
	CameraFrigate = "frigate"
	CameraSaqshy  = "saqshy"
	CameraGeneric = "generic"
)

var cameraSources = []string{CameraFrigate, CameraSaqshy, CameraGeneric}

// Rounds is the night-round schedule.
type Rounds struct {
	// Window is "HH:MM-HH:MM" in the centre's time zone and may cross midnight
	// (default "22:00-06:00").
	Window string `yaml:"window"`
	// Interval is how often every checkpoint is due within the window (default 2h).
	Interval    Duration     `yaml:"interval"`
	Checkpoints []Checkpoint `yaml:"checkpoints"`
	// Grace is how long after a slot ends a scan still counts, as late (default
	// 15m; 0 allowed). A slot without a scan by then is missed.
	Grace Duration `yaml:"grace"`
	// Overrides set a shorter (or longer) interval for a zone or a zone kind; a
	// zone's override wins over its kind's.
	Overrides []RoundOverride `yaml:"overrides"`
	// Readers are shared (hand-held) readers: the tag UID they read names the
	// checkpoint.
	Readers []RoundReader `yaml:"readers"`
	// Badges are the staff cards, optional: id, UID, name and role.
	Badges []Badge `yaml:"badges"`
	// MinWalk is the least time between scans of two different checkpoints by
	// one person when no distance is configured (default 20s; 0 disables).
	MinWalk Duration `yaml:"min_walk"`
	// Pace is the least time a person needs per metre, used with Distances
	// (default 500ms per metre, i.e. 2 m/s).
	Pace Duration `yaml:"pace"`
	// Distances between checkpoints in metres, for the walking-time check.
	Distances []Distance `yaml:"distances"`
	// BurstCount scans of different checkpoints by one reader (or by nobody
	// known) within BurstWindow are a burst (defaults 5 and 30s).
	BurstCount  int      `yaml:"burst_count"`
	BurstWindow Duration `yaml:"burst_window"`
	// DuplicateWindow: a second, different scan of the same checkpoint within it
	// is a duplicate (default 1m).
	DuplicateWindow Duration `yaml:"duplicate_window"`
	// MaxSkew is how far a scan's own time ("ts") may be from the gateway's
	// (default 2m).
	MaxSkew Duration `yaml:"max_skew"`
	// CriticalAfter consecutive missed slots at one checkpoint make its condition
	// critical (default 2).
	CriticalAfter int `yaml:"critical_after"`
}

// Checkpoint is a place a night round must pass.
type Checkpoint struct {
	// ID is unique among checkpoints; scans arrive on saqshy/<centre>/round/<id>/scan.
	ID string `yaml:"id"`
	// Zone is the id of the zone the checkpoint is in.
	Zone string `yaml:"zone"`
	// Tag is the NFC tag UID or QR code at the checkpoint; empty for a button.
	Tag string `yaml:"tag"`
	// Source says what else reports scans here besides the native topic:
	// "saqshy" (default; only saqshy/<centre>/round/<id>/scan), "zigbee2mqtt" (a
	// button: Topic is its topic) or "tasmota" (an RFID/NFC reader fixed at the
	// checkpoint: Topic is its tele/<t>/SENSOR; the UID read is the staff card).
	Source string `yaml:"source"`
	// Topic is the button's or reader's MQTT topic, for zigbee2mqtt and tasmota.
	Topic string `yaml:"topic"`
	// Reader is the id of the reader fixed at this checkpoint (the "reader" of
	// native scans); a scan on another checkpoint's topic naming it is flagged.
	Reader string `yaml:"reader"`
}

// Alerts says who hears about incidents, how, and when (see docs/ALERTS.md).
// Defaults and validation are in alerts.go.
type Alerts struct {
	Recipients []Recipient `yaml:"recipients"`
	// Escalation lists, per severity, who is told after how long unacknowledged.
	// A severity without a chain tells every recipient at once.
	Escalation Escalation `yaml:"escalation"`
	// Renotify repeats an unacknowledged critical alert to whoever was told, this
	// often (default 30m; 0s never).
	Renotify Duration `yaml:"renotify"`
	// StatusURL is the gateway's status page as staff reach it, put in messages
	// (e.g. "http://saqshy-gw.local:8080/"); empty leaves the link out.
	StatusURL string `yaml:"status_url"`
	// TemplatesDir holds ru.tmpl, kk.tmpl, en.tmpl overriding the built-in message
	// templates; empty uses the built-in ones.
	TemplatesDir string `yaml:"templates_dir"`
	// APITokenFile holds the bearer token of the local HTTP API
	// (POST /api/alerts/{id}/ack); without one only this Pi may call it.
	APITokenFile string        `yaml:"api_token_file"`
	Telegram     AlertTelegram `yaml:"telegram"`
	SMTP         AlertSMTP     `yaml:"smtp"`
	Webhook      AlertWebhook  `yaml:"webhook"`
	// Limits override the temperature and humidity limits of a zone's kind: the
	// limits given for a zone and metric replace all defaults of that zone and metric.
	Limits []AlertLimit `yaml:"limits"`
	// BatteryLow is the battery percentage under which a warning is raised (default 20).
	BatteryLow float64 `yaml:"battery_low"`
	// StaleCritical: a sensor silent this long is critical (default 60m); silent
	// for 3 × its interval is a warning.
	StaleCritical Duration `yaml:"stale_critical"`
}

// Escalation holds the escalation chains per severity.
type Escalation struct {
	Warning  []EscalationStep `yaml:"warning"`
	Critical []EscalationStep `yaml:"critical"`
}

// EscalationStep tells Notify (recipient names) once the alert has been
// unacknowledged for After.
type EscalationStep struct {
	After  Duration `yaml:"after"`
	Notify []string `yaml:"notify"`
}

// AlertTelegram is the Telegram bot that sends alerts and hears acknowledgements.
// It is on when a token is given (token_file or SAQSHY_TELEGRAM_TOKEN).
type AlertTelegram struct {
	// BaseURL of the Bot API (default https://api.telegram.org).
	BaseURL   string `yaml:"base_url"`
	TokenFile string `yaml:"token_file"`
}

// AlertSMTP is the mail server alerts are sent through; on when Host is set.
type AlertSMTP struct {
	Host string `yaml:"host"`
	// Port defaults by TLS: 587 for starttls, 465 for tls, 25 for none.
	Port int `yaml:"port"`
	// TLS is starttls (default), tls (implicit) or none.
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	// PasswordFile holds the password; SAQSHY_SMTP_PASSWORD overrides it.
	PasswordFile string `yaml:"password_file"`
	From         string `yaml:"from"`
}

// AlertWebhook receives every alert transition as JSON, signed with HMAC-SHA256
// of the body under the secret in header X-Saqshy-Signature; on when URL is set.
type AlertWebhook struct {
	URL string `yaml:"url"`
	// SecretFile holds the signing secret; SAQSHY_WEBHOOK_SECRET overrides it.
	SecretFile string `yaml:"secret_file"`
}

// AlertLimit is one limit of one zone: exactly one of Above and Below.
type AlertLimit struct {
	Zone   string   `yaml:"zone"`
	Metric string   `yaml:"metric"` // temperature or humidity
	Above  *float64 `yaml:"above"`
	Below  *float64 `yaml:"below"`
	// For is the hold: how long beyond the limit before it fires (0s: at once).
	For      Duration `yaml:"for"`
	Severity string   `yaml:"severity"` // warning or critical
}

// Recipient is one person alerts go to, on at least one channel.
type Recipient struct {
	Name string `yaml:"name"`
	// Lang is the language of the messages: ru, kk or en (default ru).
	Lang string `yaml:"lang"`
	// TelegramChat is a numeric chat id ("123456", "-1001234567890" for a group) or
	// a public channel ("@centre_alerts").
	TelegramChat string `yaml:"telegram_chat"`
	Email        string `yaml:"email"`
}

// Alert languages.
var alertLangs = []string{"ru", "kk", "en"}

// Defaults.
const (
	DefaultTimezone       = "Asia/Almaty"
	DefaultMQTTURL        = "tcp://127.0.0.1:1884"
	DefaultMaxInflight    = 256
	DefaultKeepAlive      = Duration(30 * time.Second)
	DefaultSilenceTimeout = Duration(10 * time.Minute)
	DefaultBatchSize      = 5000
	DefaultFlushInterval  = Duration(10 * time.Second)
	DefaultInfluxTimeout  = Duration(10 * time.Second)
	DefaultSpoolDir       = "/var/lib/saqshy/spool"
	DefaultSpoolMaxBytes  = 2 * GiB
	DefaultStatusListen   = "127.0.0.1:8080"
	StatusOff             = "off" // status.listen value that disables the status page
	DefaultRoundsWindow   = "22:00-06:00"
	DefaultRoundsInterval = Duration(2 * time.Hour)
	DefaultLang           = "ru"
)

// Default returns a config holding every default. It is not valid on its own: a
// centre id is required.
func Default() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills every field that is empty or zero with its default, in
// the sections and in each zone, sensor and recipient. It is idempotent; call it
// on a config built in code before [Config.Validate]. (Parse applies defaults only
// to keys absent from the file, so an explicit "interval: 0s" stays an error.)
func (c *Config) ApplyDefaults() { c.applyDefaults(nil) }

// applyDefaults fills defaults for fields whose key is not present in the file;
// present == nil treats every zero field as absent.
func (c *Config) applyDefaults(present func(path string) bool) {
	absent := func(path string) bool { return present == nil || !present(path) }
	setS := func(p *string, path, v string) {
		if *p == "" && absent(path) {
			*p = v
		}
	}
	setI := func(p *int, path string, v int) {
		if *p == 0 && absent(path) {
			*p = v
		}
	}
	setD := func(p *Duration, path string, v Duration) {
		if *p == 0 && absent(path) {
			*p = v
		}
	}
	setS(&c.Centre.Timezone, "centre.timezone", DefaultTimezone)
	if c.Centre.Location == nil && c.Centre.Timezone != "" {
		if loc, err := time.LoadLocation(c.Centre.Timezone); err == nil {
			c.Centre.Location = loc
		}
	}
	setS(&c.MQTT.URL, "mqtt.url", DefaultMQTTURL)
	if c.Centre.ID != "" {
		setS(&c.MQTT.ClientID, "mqtt.client_id", "saqshy-"+c.Centre.ID)
	}
	setI(&c.MQTT.MaxInflight, "mqtt.max_inflight", DefaultMaxInflight)
	setD(&c.MQTT.KeepAlive, "mqtt.keep_alive", DefaultKeepAlive)
	setD(&c.MQTT.SilenceTimeout, "mqtt.silence_timeout", DefaultSilenceTimeout)
	setI(&c.Influx.BatchSize, "influx.batch_size", DefaultBatchSize)
	setD(&c.Influx.FlushInterval, "influx.flush_interval", DefaultFlushInterval)
	setD(&c.Influx.Timeout, "influx.timeout", DefaultInfluxTimeout)
	setS(&c.Spool.Dir, "spool.dir", DefaultSpoolDir)
	if c.Influx.Sign.KeyFile != "" && c.Spool.Dir != "" {
		setS(&c.Influx.Sign.ChainFile, "influx.sign.chain_file", filepath.Join(c.Spool.Dir, "chain.json"))
	}
	if c.Spool.MaxBytes == 0 && absent("spool.max_bytes") {
		c.Spool.MaxBytes = DefaultSpoolMaxBytes
	}
	setS(&c.Status.Listen, "status.listen", DefaultStatusListen)
	for i := range c.Sensors {
		s := &c.Sensors[i]
		p := fmt.Sprintf("sensors[%d]", i)
		if d := DefaultInterval(s.Source); d > 0 {
			setD(&s.Interval, p+".interval", Duration(d))
		}
		if s.Source == SourceSaqshy && c.Centre.ID != "" {
			setS(&s.Topic, p+".topic", SaqshyTopic(c.Centre.ID, s.ID))
		}
	}
	setS(&c.Rounds.Window, "rounds.window", DefaultRoundsWindow)
	setD(&c.Rounds.Interval, "rounds.interval", DefaultRoundsInterval)
	c.roundsDefaults(absent)
	c.cameraDefaults(absent)
	for i := range c.Alerts.Recipients {
		setS(&c.Alerts.Recipients[i].Lang, fmt.Sprintf("alerts.recipients[%d].lang", i), DefaultLang)
	}
	c.scoreDefaults(absent)
	c.Alerts.applyDefaults(absent)
	c.registryDefaults(absent)
}

// Load reads and parses the config file at path; see [Parse].
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}
