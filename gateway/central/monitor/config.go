package monitor

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/central/web"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/webauth"
)

// The environment variables that may hold the monitor's secrets (a *_file in the
// config takes precedence).
const (
	EnvInfluxToken   = "SAQSHY_MONITOR_INFLUX_TOKEN"
	EnvWebhookSecret = "SAQSHY_MONITOR_WEBHOOK_SECRET"
	EnvSMTPPassword  = "SAQSHY_MONITOR_SMTP_PASSWORD"
	EnvTelegramToken = "SAQSHY_MONITOR_TELEGRAM_TOKEN"
)

// Config is the monitor's config file (YAML). Secrets are read from *_file paths or
// SAQSHY_MONITOR_* environment variables, never from the file itself.
type Config struct {
	Listen string `yaml:"listen"` // default 127.0.0.1:8090
	Influx struct {
		URL       string `yaml:"url"`
		Org       string `yaml:"org"`
		Bucket    string `yaml:"bucket"`
		TokenFile string `yaml:"token_file"` // or SAQSHY_MONITOR_INFLUX_TOKEN
	} `yaml:"influx"`
	// Ingest is the verifying ingest (saqshy-ingest) the gateways write through:
	// with url set, the silent-gateway watch reads each centre's last verified
	// link from its GET /centres instead of the heartbeats in the bucket, so that
	// only a gateway's signed chain counts as it reporting (docs/RATING.md).
	Ingest struct {
		URL string `yaml:"url"`
	} `yaml:"ingest"`
	// Proxy names the reverse proxies in front of the monitor (e.g. nginx on the
	// same host): from their addresses the client's address is read from header
	// (default X-Forwarded-For) for the failed-login limit and the log, and the
	// scheme from X-Forwarded-Proto (the session cookie is Secure over HTTPS).
	Proxy struct {
		Trusted []string `yaml:"trusted"` // addresses or CIDR prefixes
		Header  string   `yaml:"header"`
	} `yaml:"proxy"`
	StateDir    string   `yaml:"state_dir"`    // silent-gateway incidents, rollup cursor, reports, export log
	SilentAfter Duration `yaml:"silent_after"` // default 10m
	PollEvery   Duration `yaml:"poll_every"`   // silent-gateway check interval; default 1m
	// RefreshEvery is how often an open overview (a wall screen) fetches its rows
	// again; default 30s, 1s..10m.
	RefreshEvery Duration `yaml:"refresh_every"`
	// Rollup enables the hourly climate rollup written by the monitor (off when an
	// InfluxDB task writes it, as deploy/central's setup does on 2.x).
	Rollup struct {
		Enabled  bool `yaml:"enabled"`
		Backfill int  `yaml:"backfill_days"` // default 7
	} `yaml:"rollup"`
	// Latest is the centre_latest rollup the overview reads (one point per centre):
	// the monitor writes it every `every` (default 1m) unless enabled is false, as
	// when the saqshy-centre-latest InfluxDB task writes it. The overview reads the
	// raw measurements while no writer has run for 40 minutes.
	Latest struct {
		Enabled *bool    `yaml:"enabled"` // default true
		Every   Duration `yaml:"every"`   // default 1m
	} `yaml:"latest"`
	Report struct {
		Time     string `yaml:"time"`     // local HH:MM; default 16:00
		Timezone string `yaml:"timezone"` // default Asia/Almaty
	} `yaml:"report"`
	Attention store.Attention `yaml:"attention"`
	Notify    struct {
		Webhook struct {
			URL        string `yaml:"url"`
			SecretFile string `yaml:"secret_file"` // or SAQSHY_MONITOR_WEBHOOK_SECRET
		} `yaml:"webhook"`
		// Email sends central alerts and the daily report over SMTP (the gateway's
		// e-mail channel) to every address in to.
		Email struct {
			Host         string   `yaml:"host"`
			Port         int      `yaml:"port"` // default 587 (starttls), 465 (tls), 25 (none)
			TLS          string   `yaml:"tls"`  // starttls (default), tls or none
			Username     string   `yaml:"username"`
			PasswordFile string   `yaml:"password_file"` // or SAQSHY_MONITOR_SMTP_PASSWORD
			From         string   `yaml:"from"`
			To           []string `yaml:"to"`
		} `yaml:"email"`
		// Telegram sends them through a bot (the gateway's Telegram channel) to every
		// chat in chat_ids.
		Telegram struct {
			TokenFile string   `yaml:"token_file"` // or SAQSHY_MONITOR_TELEGRAM_TOKEN
			ChatIDs   []string `yaml:"chat_ids"`
			BaseURL   string   `yaml:"base_url"` // default https://api.telegram.org
		} `yaml:"telegram"`
	} `yaml:"notify"`
	Centres []store.CentreInfo `yaml:"centres"`
	Users   []web.User         `yaml:"users"`
	// Registry is the ministry registry the monitor keeps (docs/RATING.md): the
	// entries in dir (one <centre>.yaml each, edited by the region officers, every
	// change in dir/changes.log), the signed bundles in bundles_dir (made offline
	// with saqshy-registry sign), served at GET /registry/v1/<centre>.bundle.
	// Off when dir is empty.
	Registry struct {
		Dir         string `yaml:"dir"`
		BundlesDir  string `yaml:"bundles_dir"`
		MinistryKey string `yaml:"ministry_key"` // the ministry's public key file (saqshy-registry keygen's .pub)
		// Grace is how long a gateway has to run a bundle once it is in effect
		// (published and past its not-before time); default 2h.
		Grace         Duration `yaml:"grace"`
		RatePerMinute int      `yaml:"rate_per_minute"` // bundle requests per client address; default 30
	} `yaml:"registry"`

	proxy         webauth.Proxy
	ministryKey   ed25519.PublicKey
	influxToken   string
	webhookSecret []byte
	smtpPassword  string
	telegramToken string
	reportAt      int // minutes after local midnight
	reportLoc     *time.Location
}

// Duration is a time.Duration written as "10m".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 10m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// LoadConfig reads and validates a config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses and validates a config, applies defaults and reads secrets.
func ParseConfig(b []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8090"
	}
	if c.Influx.URL == "" {
		bad("influx.url: required")
	} else if u, err := url.Parse(c.Influx.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("influx.url: %q is not an http(s) URL", c.Influx.URL)
	}
	if c.Influx.Bucket == "" {
		bad("influx.bucket: required (on InfluxDB 1.8: database/retention-policy)")
	}
	c.influxToken = os.Getenv(EnvInfluxToken)
	if c.Influx.TokenFile != "" {
		t, err := os.ReadFile(c.Influx.TokenFile)
		if err != nil {
			bad("influx.token_file: %v", err)
		}
		c.influxToken = strings.TrimSpace(string(t))
	}
	if u := c.Ingest.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.RawQuery != "" {
			bad("ingest.url: %q is not an http(s) URL of saqshy-ingest (e.g. http://127.0.0.1:8087)", u)
		}
	}
	if p, err := webauth.ParseProxy(c.Proxy.Trusted, c.Proxy.Header); err != nil {
		bad("proxy.trusted: %v", err)
	} else {
		c.proxy = p
	}
	if h := c.Proxy.Header; h != "" && len(c.Proxy.Trusted) == 0 {
		bad("proxy.header: %q is read only from trusted proxies; list them in proxy.trusted", h)
	}
	if c.StateDir == "" {
		bad("state_dir: required (silent-gateway incidents must survive a restart)")
	}
	if c.SilentAfter == 0 {
		c.SilentAfter = Duration(10 * time.Minute)
	} else if c.SilentAfter < Duration(time.Minute) {
		bad("silent_after: %v is shorter than a heartbeat (1m)", time.Duration(c.SilentAfter))
	}
	if c.PollEvery == 0 {
		c.PollEvery = Duration(time.Minute)
	} else if c.PollEvery < Duration(time.Second) {
		bad("poll_every: %v is below 1s", time.Duration(c.PollEvery))
	}
	if c.Rollup.Backfill == 0 {
		c.Rollup.Backfill = 7
	} else if c.Rollup.Backfill < 0 || c.Rollup.Backfill > 60 {
		bad("rollup.backfill_days: %d is outside 1..60", c.Rollup.Backfill)
	}
	if c.Latest.Enabled == nil {
		on := true
		c.Latest.Enabled = &on
	}
	if c.RefreshEvery == 0 {
		c.RefreshEvery = Duration(30 * time.Second)
	} else if c.RefreshEvery < Duration(time.Second) || c.RefreshEvery > Duration(10*time.Minute) {
		bad("refresh_every: %v is outside 1s..10m", time.Duration(c.RefreshEvery))
	}
	if c.Latest.Every == 0 {
		c.Latest.Every = Duration(time.Minute)
	} else if c.Latest.Every < Duration(10*time.Second) || c.Latest.Every > Duration(10*time.Minute) {
		bad("latest.every: %v is outside 10s..10m", time.Duration(c.Latest.Every))
	}
	if c.Report.Time == "" {
		c.Report.Time = "16:00"
	}
	if t, err := time.Parse("15:04", c.Report.Time); err != nil {
		bad("report.time: %q is not HH:MM", c.Report.Time)
	} else {
		c.reportAt = t.Hour()*60 + t.Minute()
	}
	if c.Report.Timezone == "" {
		c.Report.Timezone = "Asia/Almaty"
	}
	if loc, err := time.LoadLocation(c.Report.Timezone); err != nil {
		bad("report.timezone: unknown time zone %q", c.Report.Timezone)
	} else {
		c.reportLoc = loc
	}
	if c.Attention.ScoreBelow == 0 {
		c.Attention.ScoreBelow = 70
	}
	if c.Attention.CoverageBelow == 0 {
		c.Attention.CoverageBelow = 0.9
	}
	if c.Attention.RoundsBelow == 0 {
		c.Attention.RoundsBelow = 0.8
	}
	if a := c.Attention; a.ScoreBelow < 0 || a.ScoreBelow > 100 || a.CoverageBelow < 0 || a.CoverageBelow > 1 || a.RoundsBelow < 0 || a.RoundsBelow > 1 {
		bad("attention: score_below must be within 0..100, coverage_below and rounds_below within 0..1")
	}
	if w := c.Notify.Webhook; w.URL != "" {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("notify.webhook.url: %q is not an http(s) URL", w.URL)
		}
		secret := os.Getenv(EnvWebhookSecret)
		if w.SecretFile != "" {
			s, err := os.ReadFile(w.SecretFile)
			if err != nil {
				bad("notify.webhook.secret_file: %v", err)
			}
			secret = strings.TrimSpace(string(s))
		}
		if secret == "" {
			bad("notify.webhook: a secret is required (secret_file or %s) to sign the requests", EnvWebhookSecret)
		}
		c.webhookSecret = []byte(secret)
	}
	if e := &c.Notify.Email; e.Host != "" || len(e.To) > 0 {
		switch e.TLS {
		case "":
			e.TLS = "starttls"
		case "starttls", "tls", "none":
		default:
			bad("notify.email.tls: %q is not starttls, tls or none", e.TLS)
		}
		if e.Port == 0 {
			e.Port = map[string]int{"starttls": 587, "tls": 465, "none": 25}[e.TLS]
		}
		if e.Host == "" || e.From == "" || len(e.To) == 0 {
			bad("notify.email: host, from and to are required")
		}
		c.smtpPassword = os.Getenv(EnvSMTPPassword)
		if e.PasswordFile != "" {
			s, err := os.ReadFile(e.PasswordFile)
			if err != nil {
				bad("notify.email.password_file: %v", err)
			}
			c.smtpPassword = strings.TrimSpace(string(s))
		}
		if e.Username != "" && c.smtpPassword == "" {
			bad("notify.email: username %q needs a password (password_file or %s)", e.Username, EnvSMTPPassword)
		}
	}
	if tg := c.Notify.Telegram; tg.TokenFile != "" || len(tg.ChatIDs) > 0 {
		c.telegramToken = os.Getenv(EnvTelegramToken)
		if tg.TokenFile != "" {
			s, err := os.ReadFile(tg.TokenFile)
			if err != nil {
				bad("notify.telegram.token_file: %v", err)
			}
			c.telegramToken = strings.TrimSpace(string(s))
		}
		if c.telegramToken == "" || len(tg.ChatIDs) == 0 {
			bad("notify.telegram: a bot token (token_file or %s) and chat_ids are required", EnvTelegramToken)
		}
	}
	ids := map[string]bool{}
	for i := range c.Centres {
		ce := &c.Centres[i]
		p := fmt.Sprintf("centres[%d]", i)
		switch {
		case ce.ID == "":
			bad("%s.id: required", p)
		case !store.ValidID(ce.ID):
			bad("%s.id: %q may hold only letters, digits, '-', '_' and '.'", p, ce.ID)
		case ids[ce.ID]:
			bad("%s.id: %q is listed twice", p, ce.ID)
		}
		ids[ce.ID] = true
		if ce.Region == "" {
			bad("%s.region: required", p)
		}
		if ce.Name == "" {
			ce.Name = ce.ID
		}
		if ce.Timezone == "" {
			ce.Timezone = "Asia/Almaty"
		}
		if err := ce.LoadLocation(); err != nil {
			bad("%s.timezone: %v", p, err)
		}
	}
	if rg := &c.Registry; rg.Dir != "" || rg.BundlesDir != "" || rg.MinistryKey != "" {
		for name, d := range map[string]string{"dir": rg.Dir, "bundles_dir": rg.BundlesDir} {
			if d == "" {
				bad("registry.%s: required with a registry", name)
			} else if st, err := os.Stat(d); err != nil || !st.IsDir() {
				bad("registry.%s: %q is not a directory", name, d)
			}
		}
		if rg.MinistryKey == "" {
			bad("registry.ministry_key: required: the ministry's public key file, to check the bundles before serving them")
		} else if b, err := os.ReadFile(rg.MinistryKey); err != nil {
			bad("registry.ministry_key: %v", err)
		} else if pub, err := registry.ParsePublicKey(b); err != nil {
			bad("registry.ministry_key: %s: %v", rg.MinistryKey, err)
		} else {
			c.ministryKey = pub
		}
		if rg.Grace == 0 {
			rg.Grace = Duration(2 * time.Hour)
		} else if rg.Grace < 0 {
			bad("registry.grace: %v is negative", time.Duration(rg.Grace))
		}
		if rg.RatePerMinute == 0 {
			rg.RatePerMinute = 30
		} else if rg.RatePerMinute < 0 || rg.RatePerMinute > 10000 {
			bad("registry.rate_per_minute: %d is outside 1..10000", rg.RatePerMinute)
		}
	}
	regions := map[string]bool{}
	for _, ce := range c.Centres {
		regions[ce.Region] = true
	}
	names := map[string]bool{}
	if len(c.Users) == 0 {
		bad("users: at least one user is required")
	}
	for i := range c.Users {
		u := &c.Users[i]
		p := fmt.Sprintf("users[%d]", i)
		if u.Name == "" {
			bad("%s.name: required", p)
		} else if names[u.Name] {
			bad("%s.name: %q is listed twice", p, u.Name)
		}
		names[u.Name] = true
		switch u.Role {
		case web.RoleMinistry:
			if u.Region != "" {
				bad("%s.region: a ministry user sees every region; remove region %q", p, u.Region)
			}
		case web.RoleRegion:
			if u.Region == "" {
				bad("%s.region: required for role region", p)
			} else if !regions[u.Region] {
				bad("%s.region: %q is no registered centre's region", p, u.Region)
			}
		default:
			bad("%s.role: %q is not ministry or region", p, u.Role)
		}
		if u.Timezone != "" {
			if _, err := time.LoadLocation(u.Timezone); err != nil || u.Timezone == "Local" {
				bad("%s.timezone: unknown time zone %q", p, u.Timezone)
			}
		}
		if u.Lang == "" {
			u.Lang = "ru"
		} else if !web.KnownLang(u.Lang) {
			bad("%s.lang: %q is not ru, kk or en", p, u.Lang)
		}
		if !strings.HasPrefix(u.PasswordHash, "$2") || len(u.PasswordHash) != 60 {
			bad("%s.password_hash: not a bcrypt hash (make one with `saqshy-monitor hash-password`)", p)
		}
	}
	return errors.Join(errs...)
}
