package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/webauth"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Options is what the web app is given by the wiring (gateway/central/monitor).
type Options struct {
	Centres   []store.CentreInfo // registered centres
	Users     []User
	Attention store.Attention
	Loc       *time.Location // the ministry's time zone (reports, unregistered centres)
	StateDir  string         // where the export log is kept
	Proxy     webauth.Proxy  // reverse proxies trusted to name the client and scheme
	Store     *store.Store
	Gateways  Gateways // the silent-gateway watch
	Reports   Reports  // the kept daily reports
	// Latest is this process's centre_latest writer, whose snapshot the overview
	// reads first; nil: read centre_latest from InfluxDB, else the raw measurements.
	Latest *store.Latest
	// Registry is the ministry registry kept by the monitor; nil: no registry pages.
	Registry Registry
	// RefreshEvery is how often an open overview fetches its rows again (a wall
	// screen); 0: 30 s.
	RefreshEvery time.Duration
	Log          *slog.Logger
	Now          func() time.Time // nil: time.Now
}

// Gateways is the state of every centre's gateway (jobs.Watcher).
type Gateways interface {
	States() map[string]store.GatewayState
}

// Reports lists and loads the kept daily reports (jobs.Reporter).
type Reports interface {
	List() ([]string, error)
	Load(date string) (*store.Report, error)
	// Make makes (and keeps, and sends) the report of today now.
	Make(ctx context.Context) (*store.Report, error)
}

// Server is the monitoring room's web app.
type Server struct {
	opt     Options
	store   *store.Store
	watch   Gateways
	reports Reports
	sess    *webauth.Sessions[*User]
	limit   *webauth.Limiter // failed logins per client address and user name
	proxy   webauth.Proxy
	dummy   []byte // bcrypt hash compared for an unknown user name
	log     *slog.Logger
	now     func() time.Time
	tmpl    *template.Template
	byID    map[string]store.CentreInfo
	regions []string

	exportMu sync.Mutex
	rawOnly  bool          // read the raw measurements even when centre_latest is fresh (benchmark)
	latest   *store.Latest // this process's centre_latest writer (its snapshot), or nil
}

// NewServer wires the web app.
func NewServer(opt Options) (*Server, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Loc == nil {
		opt.Loc = time.UTC
	}
	if opt.RefreshEvery <= 0 {
		opt.RefreshEvery = 30 * time.Second
	}
	s := &Server{opt: opt, store: opt.Store, watch: opt.Gateways, reports: opt.Reports, latest: opt.Latest, log: opt.Log, now: now,
		sess: webauth.NewSessions[*User](sessionTTL, now), byID: map[string]store.CentreInfo{},
		limit: webauth.NewLimiter(now), proxy: opt.Proxy, dummy: newDummyHash(opt.Users)}
	seen := map[string]bool{}
	for _, c := range opt.Centres {
		s.byID[c.ID] = c
		if !seen[c.Region] {
			seen[c.Region] = true
			s.regions = append(s.regions, c.Region)
		}
	}
	sort.Strings(s.regions)
	t, err := template.New("").Funcs(funcs()).Funcs(template.FuncMap{
		"pct":    func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
		"f0":     func(v float64) string { return fmt.Sprintf("%.0f", v) },
		"f1":     func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"sub":    func(a, b float64) float64 { return a - b },
		"f3":     func(v float64) string { return fmt.Sprintf("%.3f", v) },
		"hasKey": func(m map[string]float64, k string) bool { _, ok := m[k]; return ok },
		"lowest": lowest,
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: odd arguments")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12] + "…"
			}
			return s
		},
	}).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	s.tmpl = t
	return s, nil
}

// Handler returns the app's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.FileServerFS(assets))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.auth(s.logout))
	mux.HandleFunc("GET /{$}", s.auth(s.overview))
	mux.HandleFunc("GET /overview/live", s.auth(s.overview))
	mux.HandleFunc("GET /centre/{id}", s.auth(s.centre))
	mux.HandleFunc("GET /export", s.auth(s.exportPage))
	mux.HandleFunc("GET /export/download", s.auth(s.exportDownload))
	mux.HandleFunc("GET /reports", s.auth(s.reportList))
	mux.HandleFunc("POST /reports", s.auth(s.reportMake))
	mux.HandleFunc("GET /reports/{date}", s.auth(s.reportPage))
	if s.opt.Registry != nil {
		mux.HandleFunc("GET /registry", s.auth(s.registryList))
		mux.HandleFunc("GET /registry/{id}", s.auth(s.registryPage))
		mux.HandleFunc("POST /registry/{id}", s.auth(s.registryPage))
	}
	return securityHeaders(mux)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Lang   string
	User   *User
	CSRF   string
	Title  string
	Path   string
	Data   any
	Error  string
	Langs  []string
	Status int
	// Registry: the monitor keeps the ministry registry (its pages exist).
	Registry bool
	// Zone is the officer's chosen time zone (?tz=, its cookie, the user's
	// setting), nil when none: each page then shows its own default zone (Loc).
	Zone *time.Location
	// Now is when the page is made.
	Now time.Time
	// Home is the ministry's zone (report.timezone): the overview's and the
	// reports' default.
	Home *time.Location
}

// Loc is the zone the page shows its times in: the officer's choice, else def
// (a centre page: the centre's zone; the overview and reports: the ministry's).
func (p page) Loc(def *time.Location) *time.Location {
	switch {
	case p.Zone != nil:
		return p.Zone
	case def != nil:
		return def
	case p.Home != nil:
		return p.Home
	}
	return time.UTC
}

// TZ is the chosen zone's name for the zone picker, "" for the page's default.
func (p page) TZ() string {
	if p.Zone == nil {
		return ""
	}
	return p.Zone.String()
}

// Zones are the zones the picker offers (any IANA name works through ?tz=).
func (p page) Zones() []string { return pickerZones }

func (p page) T(key string, args ...any) string { return tr(p.Lang, key, args...) }

// lang picks the page language: ?lang=, the lang cookie, the user's, Russian.
func (s *Server) lang(w http.ResponseWriter, r *http.Request, u *User) string {
	if l := r.URL.Query().Get("lang"); l != "" && KnownLang(l) {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && KnownLang(c.Value) {
		return c.Value
	}
	if u != nil {
		return u.Lang
	}
	return "ru"
}

// auth requires a session; POSTs also require its CSRF token and a same-origin Origin.
func (s *Server) auth(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.sess.Get(r)
		if ss == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+template.URLQueryEscaper(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if !webauth.SameOrigin(r) || !webauth.TokensEqual(r.PostFormValue("csrf"), ss.CSRF) {
				http.Error(w, "CSRF check failed: missing or wrong form token", http.StatusForbidden)
				return
			}
		}
		h(w, r, ss)
	}
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	p.Langs = Languages
	p.Path = r.URL.Path
	var buf strings.Builder
	if err := s.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if p.Status != 0 {
		w.WriteHeader(p.Status)
	}
	_, _ = w.Write([]byte(buf.String()))
}

func (s *Server) newPage(w http.ResponseWriter, r *http.Request, ss *session, title string, data any) page {
	p := page{Data: data, Title: title, Registry: s.opt.Registry != nil, Home: s.opt.Loc, Now: s.now()}
	if ss != nil {
		p.User, p.CSRF = ss.User, ss.CSRF
	}
	p.Lang = s.lang(w, r, p.User)
	p.Zone = s.zone(w, r, p.User)
	return p
}

// badRequest answers 400 naming the parameter and what was wrong.
func badRequest(w http.ResponseWriter, format string, a ...any) {
	http.Error(w, "bad request: "+fmt.Sprintf(format, a...), http.StatusBadRequest)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, r, "", 0)
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, errKey string, status int) {
	tok := webauth.NewToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.proxy.Secure(r), MaxAge: 3600})
	p := s.newPage(w, r, nil, "login", webauth.SafeNext(r.FormValue("next")))
	p.CSRF, p.Status = tok, status
	if errKey != "" {
		p.Error = tr(p.Lang, errKey)
	}
	s.render(w, r, "login.html", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		badRequest(w, "form: %v", err)
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !webauth.SameOrigin(r) || !webauth.TokensEqual(r.PostFormValue("csrf"), c.Value) {
		http.Error(w, "CSRF check failed: reload the login page and try again", http.StatusForbidden)
		return
	}
	name := r.PostFormValue("user")
	remote := s.proxy.ClientIP(r)
	keys := []string{"ip:" + remote, "user:" + name}
	at, ok, wait := s.limit.Reserve(keys...)
	if !ok {
		s.log.Warn("login refused: too many failures", "user", name, "remote", remote)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		s.showLogin(w, r, "login.throttled", http.StatusTooManyRequests)
		return
	}
	u := authenticate(s.opt.Users, s.dummy, name, r.PostFormValue("password"))
	if u == nil {
		s.log.Warn("login failed", "user", name, "remote", remote)
		s.showLogin(w, r, "login.bad", http.StatusUnauthorized)
		return
	}
	s.limit.Release(at, keys...)
	tok, _ := s.sess.Create(u)
	s.setSession(w, r, tok)
	s.log.Info("login", "user", u.Name, "role", u.Role, "remote", remote)
	http.Redirect(w, r, webauth.SafeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, ss *session) {
	s.sess.Drop(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// sortKeys are the overview's sortable columns.
var sortKeys = map[string]func(a, b *store.CentreRow) int{
	"id":     func(a, b *store.CentreRow) int { return strings.Compare(a.Info.ID, b.Info.ID) },
	"name":   func(a, b *store.CentreRow) int { return strings.Compare(a.Info.Name, b.Info.Name) },
	"region": func(a, b *store.CentreRow) int { return strings.Compare(a.Info.Region, b.Info.Region) },
	"score":  func(a, b *store.CentreRow) int { return cmpOpt(a.HasLive, a.Live.Total, b.HasLive, b.Live.Total) },
	"yesterday": func(a, b *store.CentreRow) int {
		return cmpOpt(a.HasYesterday, a.Yesterday.Total, b.HasYesterday, b.Yesterday.Total)
	},
	"month":    func(a, b *store.CentreRow) int { return cmpOpt(a.HasMonth, a.Month, b.HasMonth, b.Month) },
	"coverage": func(a, b *store.CentreRow) int { return cmpOpt(a.HasCoverage, a.Coverage, b.HasCoverage, b.Coverage) },
	"rounds": func(a, b *store.CentreRow) int {
		return cmpOpt(a.HasNight, a.Night.Compliance, b.HasNight, b.Night.Compliance)
	},
	"critical":  func(a, b *store.CentreRow) int { return a.OpenCritical - b.OpenCritical },
	"seen":      func(a, b *store.CentreRow) int { return a.Gateway.LastSeen.Compare(b.Gateway.LastSeen) },
	"attention": func(a, b *store.CentreRow) int { return len(a.Reasons) - len(b.Reasons) },
}

// cmpOpt orders missing values before any value.
func cmpOpt(ha bool, a float64, hb bool, b float64) int {
	switch {
	case !ha && !hb:
		return 0
	case !ha:
		return -1
	case !hb:
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// OverviewData is the overview page's content.
type OverviewData struct {
	Rows       []store.CentreRow
	Total      int
	Attention  int
	Regions    []string
	Region     string
	OnlyAttn   bool
	Sort, Dir  string
	Components []string
	Now        time.Time
	Refresh    int       // seconds between the page's fetches of its live part
	AsOf       time.Time // the centre_latest run read; zero: the raw measurements
	Source     string    // SourceMemory, SourceInflux or SourceRaw

	Threshold, CovThreshold, RoundsThreshold float64
}

// overviewParams validates the overview's query parameters.
func (s *Server) overviewParams(r *http.Request) (region string, onlyAttn bool, key, dir string, err error) {
	q := r.URL.Query()
	region = q.Get("region")
	if region != "" && !s.knownRegion(region) {
		return "", false, "", "", fmt.Errorf("region %q is not a registered region", region)
	}
	switch a := q.Get("attention"); a {
	case "", "0":
	case "1":
		onlyAttn = true
	default:
		return "", false, "", "", fmt.Errorf("attention must be 1 or 0, not %q", a)
	}
	key = q.Get("sort")
	if key == "" {
		key = "attention"
	} else if sortKeys[key] == nil {
		keys := make([]string, 0, len(sortKeys))
		for k := range sortKeys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return "", false, "", "", fmt.Errorf("sort %q is not one of %s", key, strings.Join(keys, ", "))
	}
	dir = q.Get("dir")
	switch dir {
	case "":
		dir = "asc"
		if key == "attention" {
			dir = "desc"
		}
	case "asc", "desc":
	default:
		return "", false, "", "", fmt.Errorf("dir must be asc or desc, not %q", dir)
	}
	return region, onlyAttn, key, dir, nil
}

func (s *Server) knownRegion(r string) bool {
	i := sort.SearchStrings(s.regions, r)
	return i < len(s.regions) && s.regions[i] == r
}

// Overview returns the rows a user may see (before the page's own filters).
func (s *Server) Overview(ctx context.Context, u *User) ([]store.CentreRow, error) {
	rows, _, _, err := s.OverviewRows(ctx, u)
	return rows, err
}

// OverviewRows is Overview that also says where the numbers came from: asOf is the
// time of the centre_latest run used (this process's in-memory snapshot of its last
// run, else the rollup in InfluxDB), zero when the raw measurements were read.
func (s *Server) OverviewRows(ctx context.Context, u *User) (rows []store.CentreRow, asOf time.Time, source string, err error) {
	gw := s.watch.States()
	now := s.now()
	var (
		d  *store.Figures
		ok bool
	)
	source = SourceMemory
	if !s.rawOnly && s.latest != nil {
		d, asOf, ok = s.latest.Snapshot(now)
	}
	if !s.rawOnly && !ok {
		source = SourceInflux
		d, asOf, ok, err = s.store.LatestOverview(ctx)
	}
	if err != nil {
		s.log.Warn("centre_latest unreadable, reading the raw measurements", "err", err)
	}
	if ok {
		rows = store.Assemble(d, s.opt.Centres, gw, s.opt.Attention, s.opt.Loc, now)
	} else {
		asOf, source = time.Time{}, SourceRaw
		rows, err = store.BuildOverview(ctx, s.store, s.opt.Centres, gw, s.opt.Attention, s.opt.Loc, now)
		if err != nil {
			return nil, asOf, source, err
		}
	}
	out := rows[:0]
	for _, r := range rows {
		if u.allowed(r.Info, r.Registered) {
			out = append(out, r)
		}
	}
	return out, asOf, source, nil
}

// Where the overview's numbers came from (OverviewRows; the overview page says it).
const (
	SourceMemory = "centre_latest (memory)" // this process's last centre_latest run
	SourceInflux = "centre_latest"          // the rollup in InfluxDB
	SourceRaw    = "raw"                    // the six queries over the raw measurements
)

func (s *Server) overview(w http.ResponseWriter, r *http.Request, ss *session) {
	region, onlyAttn, key, dir, err := s.overviewParams(r)
	if err != nil {
		badRequest(w, "%v", err)
		return
	}
	if ss.User.Role == RoleRegion && region != "" && region != ss.User.Region {
		http.Error(w, "forbidden: you see only the centres of "+ss.User.Region, http.StatusForbidden)
		return
	}
	rows, asOf, source, err := s.OverviewRows(r.Context(), ss.User)
	if err != nil {
		s.fail(w, r, ss, "overview", err)
		return
	}
	d := OverviewData{AsOf: asOf, Source: source, Total: len(rows), Region: region, OnlyAttn: onlyAttn, Sort: key, Dir: dir, Components: store.ComponentNames, Now: s.now(),
		Threshold: s.opt.Attention.ScoreBelow, CovThreshold: s.opt.Attention.CoverageBelow, RoundsThreshold: s.opt.Attention.RoundsBelow}
	for _, c := range rows {
		if len(c.Reasons) > 0 {
			d.Attention++
		}
	}
	for _, reg := range s.regions {
		if ss.User.allowed(store.CentreInfo{Region: reg}, true) {
			d.Regions = append(d.Regions, reg)
		}
	}
	kept := rows[:0]
	for _, c := range rows {
		if (region == "" || c.Info.Region == region) && (!onlyAttn || len(c.Reasons) > 0) {
			kept = append(kept, c)
		}
	}
	less := sortKeys[key]
	sort.SliceStable(kept, func(i, j int) bool {
		c := less(&kept[i], &kept[j])
		if dir == "desc" {
			c = -c
		}
		if c == 0 {
			return kept[i].Info.ID < kept[j].Info.ID
		}
		return c < 0
	})
	d.Rows = kept
	d.Refresh = int(s.opt.RefreshEvery / time.Second)
	name := "overview.html"
	if r.URL.Path == "/overview/live" {
		name = "ovlive" // the live part alone, fetched by static/app.js
		w.Header().Set("Cache-Control", "no-store")
	}
	s.render(w, r, name, s.newPage(w, r, ss, "overview", d))
}

// centreFor returns the centre a user may open, or false (unknown and forbidden alike:
// a region user cannot tell whether another region's centre exists).
func (s *Server) centreFor(u *User, id string) (store.CentreInfo, bool) {
	if c, ok := s.byID[id]; ok {
		return c, u.allowed(c, true)
	}
	if u.Role == RoleMinistry && store.ValidID(id) && len(id) <= 128 {
		return store.NewCentre(id, id, "", s.opt.Loc), true
	}
	return store.CentreInfo{}, false
}

// CentreData is the centre page's content.
type CentreData struct {
	Info       store.CentreInfo
	Registered bool
	Range      string
	Charts     []template.HTML
	Coverage   template.HTML
	Nights     []store.Night
	Alerts     []store.Incident
	// Scores are the rating's days (the ministry's computation, beside the
	// gateway's own total), newest first.
	Scores     []store.Score
	Month      store.Month // the rating over the last 30 days
	HasRating  bool
	ScoreChart template.HTML
	Gateway    store.GatewayState
	FromRollup bool
	Components []string
	zones      map[string]string // zone id → the registry entry's name
	kinds      map[string]string // zone id → its kind's name in the page's language
}

// ZoneName is a zone's name: the registry entry's, else its kind's name in the
// page's language, else its id.
func (d *CentreData) ZoneName(id string) string {
	if n := d.zones[id]; n != "" {
		return n
	}
	if n := d.kinds[id]; n != "" {
		return n
	}
	return id
}

// chartTitle names a zone's chart: the registry entry's name of the zone, else
// its id, then its kind's name ("Room 101 · living room", "room-101 · living
// room"; not the kind twice).
func (d *CentreData) chartTitle(id, kindName string) string {
	n := d.zones[id]
	if n == "" {
		n = id
	}
	return n + " · " + kindName
}

// zoneNames names a centre's zones: the registry entry's names, from its entry
// file, else from its signed bundle in force (a monitor may have bundles only);
// and the names in lang of the zones' kinds, from the entry and the climate
// series.
func (s *Server) zoneNames(centre, lang string, climate []store.Series) (names, kinds map[string]string) {
	names, kinds = map[string]string{}, map[string]string{}
	for _, sr := range climate {
		if sr.Kind != "" {
			kinds[sr.Name] = zoneKindName(lang, sr.Kind)
		}
	}
	e := s.registryEntry(centre)
	if e == nil {
		return names, kinds
	}
	for _, z := range e.Zones {
		if z.Name != "" {
			names[z.ID] = z.Name
		}
		if z.Kind != "" {
			kinds[z.ID] = zoneKindName(lang, z.Kind)
		}
	}
	return names, kinds
}

// registryEntry is a centre's registry entry: its entry file, else its signed
// bundle in force; nil when neither (or no registry).
func (s *Server) registryEntry(centre string) *registry.Entry {
	if s.opt.Registry == nil {
		return nil
	}
	if src, err := s.opt.Registry.Source(centre); err == nil {
		if e, err := registry.Parse(centre+".yaml", src); err == nil {
			return e
		}
	}
	for _, e := range s.opt.Registry.Entries() {
		if e.Centre.ID == centre {
			return e
		}
	}
	return nil
}

func (s *Server) centre(w http.ResponseWriter, r *http.Request, ss *session) {
	id := r.PathValue("id")
	c, ok := s.centreFor(ss.User, id)
	if !ok {
		p := s.newPage(w, r, ss, "not.found", nil)
		p.Status, p.Error = http.StatusNotFound, tr(p.Lang, "not.found")
		s.render(w, r, "error.html", p)
		return
	}
	rng := r.URL.Query().Get("range")
	var span, every time.Duration
	switch rng {
	case "", "24h":
		rng, span, every = "24h", 24*time.Hour, 15*time.Minute
	case "7d":
		span, every = 7*24*time.Hour, time.Hour
	default:
		badRequest(w, "range must be 24h or 7d, not %q", rng)
		return
	}
	now := s.now()
	from := now.Add(-span)
	_, registered := s.byID[id]
	d := CentreData{Info: c, Registered: registered, Range: rng, Gateway: s.watch.States()[id], Components: store.ComponentNames}
	var (
		climate []store.Series
		cov     []store.Point
		days    map[string][]store.Score
	)
	ctx := r.Context()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if span > 24*time.Hour {
			// The hourly rollup; the raw points when it is missing (no rollup yet).
			climate, err = s.store.Climate(gctx, id, from, every, true)
			if err == nil && len(climate) > 0 {
				d.FromRollup = true
				return nil
			}
		}
		climate, err = s.store.Climate(gctx, id, from, every, false)
		return err
	})
	g.Go(func() (err error) { cov, err = s.store.CoverageTimeline(gctx, id, from); return })
	g.Go(func() (err error) { d.Nights, err = s.store.Nights(gctx, id, now.AddDate(0, 0, -14)); return })
	g.Go(func() (err error) { d.Alerts, err = s.store.Alerts(gctx, id, now.AddDate(0, 0, -30)); return })
	g.Go(func() (err error) {
		days, err = s.store.RatingDays(gctx, now.AddDate(0, 0, -31), now, []string{id})
		return
	})
	var month map[string]store.Month
	g.Go(func() (err error) {
		month, err = s.store.MonthRatings(gctx, now.AddDate(0, 0, -30), []string{id})
		return
	})
	if err := g.Wait(); err != nil {
		s.fail(w, r, ss, "centre "+id, err)
		return
	}
	p := s.newPage(w, r, ss, "centre", &d)
	d.zones, d.kinds = s.zoneNames(id, p.Lang, climate)
	loc := p.Loc(c.Location())
	for _, sr := range climate {
		ch := chart{W: 300, H: 130, From: from, To: now, Loc: loc, Title: d.chartTitle(sr.Name, zoneKindName(p.Lang, sr.Kind)), Decimals: 0, NoDataText: tr(p.Lang, "no.data")}
		ch.Band[0], ch.Band[1], ch.HasBand = normalBand(sr.Kind)
		d.Charts = append(d.Charts, ch.render(sr.Points))
	}
	cc := chart{W: 620, H: 130, From: from, To: now, Loc: loc, Lo: 0, Hi: 1, Percent: true, Title: tr(p.Lang, "coverage.timeline"), NoDataText: tr(p.Lang, "no.data")}
	d.Coverage = cc.render(cov)
	d.Scores = days[id]
	d.Month, d.HasRating = month[id]
	for i, j := 0, len(d.Scores)-1; i < j; i, j = i+1, j-1 {
		d.Scores[i], d.Scores[j] = d.Scores[j], d.Scores[i]
	}
	var sp []store.Point
	for _, sc := range d.Scores {
		sp = append(sp, store.Point{T: sc.At, V: sc.Total, Min: sc.Total, Max: sc.Total})
	}
	sort.Slice(sp, func(i, j int) bool { return sp[i].T.Before(sp[j].T) })
	sc := chart{W: 620, H: 130, From: now.AddDate(0, 0, -31), To: now, Loc: loc, Lo: 0, Hi: 100, Title: tr(p.Lang, "score.history"), NoDataText: tr(p.Lang, "no.data")}
	d.ScoreChart = sc.render(sp)
	s.render(w, r, "centre.html", p)
}

// lowest names the weakest component of a score (the "why" of a low score).
func lowest(sc store.Score) string {
	best, bv := "", 2.0
	for _, k := range store.ComponentNames {
		if v, ok := sc.Components[k]; ok && v < bv {
			best, bv = k, v
		}
	}
	return best
}

// ReadRawOnly has the overview read the raw measurements even when centre_latest
// is fresh (to measure the difference); call it before serving.
func (s *Server) ReadRawOnly(on bool) { s.rawOnly = on }

// ReadLatestFrom sets this process's centre_latest writer, whose snapshot the
// overview reads first (nil: a replica, reading centre_latest from InfluxDB); call
// it before serving.
func (s *Server) ReadLatestFrom(l *store.Latest) { s.latest = l }

// ReportRenderer returns the function that writes a daily report's page as it is
// kept for the record (Russian, no user, times in loc: the report's zone): the
// jobs' Reporter keeps it beside the report's JSON.
func ReportRenderer(loc *time.Location) (func(w io.Writer, rep *store.Report) error, error) {
	if loc == nil {
		loc = time.UTC
	}
	t, err := template.New("").Funcs(funcs()).Funcs(template.FuncMap{"f0": func(v float64) string { return fmt.Sprintf("%.0f", v) }}).ParseFS(assets, "templates/report.html", "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("report template: %w", err)
	}
	return func(w io.Writer, rep *store.Report) error {
		return t.ExecuteTemplate(w, "report.html", page{Lang: "ru", Data: &ReportView{Report: rep, Kept: true}, Langs: Languages, Title: "reports",
			Path: "/reports/" + rep.Date, Home: loc})
	}, nil
}
