package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/central/jobs"
	"github.com/saqshy/saqshy/gateway/central/rating"
	"github.com/saqshy/saqshy/gateway/central/regsvc"
	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/central/web"
)

// App is the whole monitor: web app, silent-gateway watcher, daily report, rollup.
type App struct {
	Config   *Config
	Store    *store.Store
	Watcher  *jobs.Watcher
	Reporter *jobs.Reporter
	Rollup   *store.Rollup
	Latest   *store.Latest
	Server   *web.Server
	// Registry and RegistryWatch are the ministry registry's service and the
	// check of the versions the gateways run; nil without registry: in the config.
	Registry      *regsvc.Service
	RegistryWatch *jobs.RegistryWatcher
	// Rating is the ministry's own day score of every centre with a signed
	// registry bundle (gateway/central/rating); nil without a registry.
	Rating *rating.Job
	log    *slog.Logger
}

// gateways is the gateway state the pages show: the silent-gateway watch's, with
// the registry watch's versions.
type gateways struct {
	silent *jobs.Watcher
	reg    *jobs.RegistryWatcher
}

func (g gateways) States() map[string]store.GatewayState {
	out := g.silent.States()
	if g.reg == nil {
		return out
	}
	for id, st := range g.reg.States() {
		gs := out[id]
		gs.Registry = st
		out[id] = gs
	}
	return out
}

// New wires an App from a validated config. now may be nil (time.Now); when set, the
// store's relative query ranges count back from it too.
func New(cfg *Config, log *slog.Logger, now func() time.Time) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, log: log}
	a.Store = store.NewStore(cfg.Influx.URL, cfg.influxToken, cfg.Influx.Org, cfg.Influx.Bucket)
	if now == nil {
		now = time.Now // and the store's relative ranges keep InfluxDB's clock
	} else {
		a.Store.SetClock(now) // its queries' "now" is the monitor's
	}
	var n jobs.Notifier = jobs.NopNotifier{}
	if ch := cfg.channels(); ch != nil {
		n = ch
	}
	var err error
	var seen jobs.SeenSource = a.Store
	if cfg.Ingest.URL != "" {
		seen = &jobs.IngestSeen{URL: cfg.Ingest.URL, Client: &http.Client{Timeout: 30 * time.Second}}
	}
	a.Watcher, err = jobs.NewWatcher(seen, n, cfg.Centres, time.Duration(cfg.SilentAfter), cfg.StateDir, log.With("part", "silent"), now)
	if err != nil {
		return nil, err
	}
	render, err := web.ReportRenderer(cfg.reportLoc)
	if err != nil {
		return nil, err
	}
	ministry := &web.User{Name: "daily-report", Role: web.RoleMinistry}
	a.Reporter, err = jobs.NewReporter(filepath.Join(cfg.StateDir, "reports"), cfg.reportAt, cfg.reportLoc,
		func(ctx context.Context) ([]store.CentreRow, error) { return a.Server.Overview(ctx, ministry) }, render, n, log.With("part", "report"), now)
	if err != nil {
		return nil, err
	}
	var centres []string
	if len(cfg.Centres) > store.RollupChunk {
		for _, c := range cfg.Centres {
			centres = append(centres, c.ID)
		}
	}
	a.Rollup = store.NewRollup(a.Store, cfg.StateDir, cfg.Rollup.Backfill, log.With("part", "rollup"), now)
	a.Rollup.SetCentres(centres)
	if rg := cfg.Registry; rg.Dir != "" {
		a.Registry, err = regsvc.New(regsvc.Options{Dir: rg.Dir, BundlesDir: rg.BundlesDir, MinistryKey: cfg.ministryKey, Proxy: cfg.proxy,
			RatePerMinute: rg.RatePerMinute, Log: log.With("part", "registry"), Now: now})
		if err != nil {
			return nil, err
		}
		a.RegistryWatch, err = jobs.NewRegistryWatcher(a.Store, a.Registry, n, cfg.Centres, time.Duration(rg.Grace), cfg.StateDir, log.With("part", "registry-watch"), now)
		if err != nil {
			return nil, err
		}
	}
	a.Latest = store.NewLatest(a.Store, cfg.Centres, cfg.reportLoc, log.With("part", "latest"), now)
	if a.Registry != nil {
		a.Rating, err = rating.New(rating.Options{DB: ratingDB{a.Store, a.Latest}, Centres: a.Registry, Now: now, Logger: log.With("part", "rating")})
		if err != nil {
			return nil, err
		}
	}
	opt := web.Options{Centres: cfg.Centres, Users: cfg.Users, Attention: cfg.Attention, Loc: cfg.reportLoc, StateDir: cfg.StateDir,
		Proxy: cfg.proxy, Store: a.Store, Gateways: gateways{a.Watcher, a.RegistryWatch}, Reports: a.Reporter, Log: log.With("part", "web"), Now: now,
		RefreshEvery: time.Duration(cfg.RefreshEvery)}
	if cfg.Latest.Enabled == nil || *cfg.Latest.Enabled {
		opt.Latest = a.Latest
	}
	if a.Registry != nil {
		opt.Registry = a.Registry
	}
	a.Server, err = web.NewServer(opt)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Run serves on cfg.Listen (or ln when not nil) and runs the background jobs until
// ctx ends, then shuts down cleanly.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", a.Config.Listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	defer a.Store.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.Watcher.Run(ctx, time.Duration(a.Config.PollEvery)) }()
	go func() { defer wg.Done(); a.Reporter.Run(ctx) }()
	if a.RegistryWatch != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.RegistryWatch.Run(ctx, time.Duration(a.Config.PollEvery)) }()
	}
	if a.Rating != nil {
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.Rating.Run(ctx) }()
	}
	if a.Config.Latest.Enabled == nil || *a.Config.Latest.Enabled {
		wg.Add(1)
		go func() { defer wg.Done(); a.Latest.Run(ctx, time.Duration(a.Config.Latest.Every)) }()
	}
	if a.Config.Rollup.Enabled {
		wg.Add(1)
		go func() { defer wg.Done(); a.Rollup.Run(ctx, 5*time.Minute) }()
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("saqshy-monitor listening", "addr", ln.Addr().String(), "centres", len(a.Config.Centres))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Handler is the monitor's routes: the pages, and the signed registry bundles at
// regsvc.BundlePath (no login) when the monitor keeps the registry.
func (a *App) Handler() http.Handler {
	pages := a.Server.Handler()
	if a.Registry == nil {
		return pages
	}
	mux := http.NewServeMux()
	mux.Handle(regsvc.BundlePath, a.Registry.Handler())
	mux.Handle("/", pages)
	return mux
}

// channels returns the configured notification channels, nil for none.
func (c *Config) channels() *jobs.Channels {
	ch := &jobs.Channels{}
	if c.Notify.Webhook.URL != "" {
		ch.Webhook = &jobs.Webhook{URL: c.Notify.Webhook.URL, Secret: c.webhookSecret}
	}
	if e := c.Notify.Email; e.Host != "" {
		ch.Email = &notify.Email{Host: e.Host, Port: e.Port, TLS: e.TLS, Username: e.Username, Password: c.smtpPassword, From: e.From}
		ch.EmailTo = e.To
	}
	if tg := c.Notify.Telegram; len(tg.ChatIDs) > 0 {
		ch.Telegram = &notify.Telegram{BaseURL: tg.BaseURL, Token: c.telegramToken}
		ch.ChatIDs = tg.ChatIDs
	}
	if ch.Webhook == nil && ch.Email == nil && ch.Telegram == nil {
		return nil
	}
	return ch
}

// ratingDB is the rating job's database: once the job has written days, the
// centre_latest rollup is refreshed at once, so that the overview's yesterday and
// 30 days show them (the first cycle at start among them) without waiting for
// the rollup's next run.
type ratingDB struct {
	*store.Store
	latest *store.Latest
}

func (d ratingDB) Write(ctx context.Context, lines ...string) error {
	err := d.Store.Write(ctx, lines...)
	if err == nil {
		d.latest.Refresh()
	}
	return err
}
