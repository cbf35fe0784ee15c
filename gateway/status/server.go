package status

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/webauth"
)

//go:embed page.html
var pageFS embed.FS

//go:embed assets
var assetFS embed.FS

var templates = template.Must(template.New("page.html").ParseFS(pageFS, "page.html"))

// Options configure the status server.
type Options struct {
	// Provider supplies the snapshots (required).
	Provider Provider
	// Centre labels the metrics.
	Centre string
	Logger *slog.Logger // default: discard
	// PasswordHash is a bcrypt hash ([ReadPasswordFile]); nil leaves the page open,
	// which the page then says.
	PasswordHash []byte
	// Acker, when set, gives firing alerts an acknowledge button.
	Acker Acker
	// Proxy names the reverse proxies trusted to give the client's address (the
	// failed-login limit is per client) and scheme (the session cookie is Secure
	// over HTTPS); the zero value trusts none.
	Proxy webauth.Proxy
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// UpdateEvery is the live-update period (default 2s).
	UpdateEvery time.Duration
	// Now returns the time (default time.Now).
	Now func() time.Time
	// GoMetrics adds the Go runtime and process collectors to /metrics.
	GoMetrics bool
	// API, when set, serves the machine API under /api/ (GET /api/alerts, and
	// POST /api/alerts/{id}/ack for requests that carry an Authorization header
	// rather than the page's session); it does its own authentication.
	API http.Handler
}

// Server is the status page's HTTP handler.
type Server struct {
	opt     Options
	log     *slog.Logger
	auth    *auth
	metrics *pageMetrics
	mux     *http.ServeMux
}

// New returns the status server.
func New(opt Options) (*Server, error) {
	if opt.Provider == nil {
		return nil, errors.New("status: no provider")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.UpdateEvery <= 0 {
		opt.UpdateEvery = 2 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{opt: opt, log: opt.Logger, auth: newAuth(opt.PasswordHash, opt.SessionTTL, opt.Now, opt.Proxy), metrics: new(pageMetrics)}
	assets, _ := fs.Sub(assetFS, "assets")

	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.page)
	m.HandleFunc("GET /fragment", s.fragment)
	m.HandleFunc("GET /events", s.events)
	m.HandleFunc("GET /status.json", s.json)
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.logout)
	m.HandleFunc("GET /lang", s.setLang)
	m.HandleFunc("POST /api/alerts/{id}/ack", s.ack)
	if s.opt.API != nil {
		m.Handle("GET /api/", s.opt.API)
	}
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		snap := opt.Provider.Snapshot()
		if !snap.MQTTConnected {
			http.Error(w, "mqtt not connected", http.StatusServiceUnavailable)
			return
		}
		if snap.MQTTProblem != "" {
			http.Error(w, "mqtt: "+snap.MQTTProblem, http.StatusServiceUnavailable)
			return
		}
		if snap.SpoolError != "" {
			http.Error(w, "spool cannot store readings: "+snap.SpoolError, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	m.HandleFunc("GET /metrics", s.serveMetrics)
	s.mux = m
	return s, nil
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", metricsContentType)
	if err := writeMetrics(w, s.opt.Provider, s.opt.Centre, s.opt.Now(), s.metrics, s.opt.GoMetrics); err != nil {
		s.log.Debug("writing /metrics", "err", err) // the scraper went away
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Second))
	s.mux.ServeHTTP(w, r)
}

// view builds the view for a request in lang; csrf is the request's form token.
func (s *Server) view(lang, csrf string) *view {
	snap := s.opt.Provider.Snapshot()
	if snap.Now.IsZero() {
		snap.Now = s.opt.Now()
	}
	v := buildView(snap, lang)
	v.Open = s.auth.open()
	v.LoggedIn = !s.auth.open()
	v.CanAck = s.opt.Acker != nil
	v.CSRF = csrf
	return v
}

// csrf returns the form token of the request's browser, giving it a CSRF cookie
// first if it has none.
func (s *Server) csrf(w http.ResponseWriter, r *http.Request) string {
	return s.auth.csrfToken(s.auth.ensureCSRFCookie(w, r))
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v any) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, v); err != nil {
		s.log.Error("status page", "template", name, "err", err)
		http.Error(w, "status page: template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// requireLogin answers for a request without a session: the login page for a
// browser, 401 for the rest. It reports whether the request may go on.
func (s *Server) requireLogin(w http.ResponseWriter, r *http.Request, page bool) bool {
	if s.auth.loggedIn(r) {
		return true
	}
	s.metrics.rejected.inc("unauthorized")
	if page {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return false
	}
	http.Error(w, tr{pickLang(r)}.T("unauthorized"), http.StatusUnauthorized)
	return false
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	if !s.requireLogin(w, r, true) {
		return
	}
	s.render(w, http.StatusOK, "page", s.view(pickLang(r), s.csrf(w, r)))
}

func (s *Server) fragment(w http.ResponseWriter, r *http.Request) {
	if !s.requireLogin(w, r, false) {
		return
	}
	s.render(w, http.StatusOK, "live", s.view(pickLang(r), s.csrf(w, r)))
}

// events streams the live part of the page as server-sent events ("live" events
// whose data is the HTML fragment), one every UpdateEvery while it changes.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if !s.requireLogin(w, r, false) {
		return
	}
	rc := http.NewResponseController(w)
	lang, csrf := pickLang(r), s.csrf(w, r)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s.metrics.streams.Add(1)
	defer s.metrics.streams.Add(-1)
	tick := time.NewTicker(s.opt.UpdateEvery)
	defer tick.Stop()
	var last []byte
	var buf bytes.Buffer
	for {
		buf.Reset()
		if err := templates.ExecuteTemplate(&buf, "live", s.view(lang, csrf)); err != nil {
			s.log.Error("status live update", "err", err)
			return
		}
		if !bytes.Equal(buf.Bytes(), last) {
			last = append(last[:0], buf.Bytes()...)
			var ev bytes.Buffer
			ev.WriteString("event: live\n")
			for _, line := range bytes.Split(bytes.TrimRight(buf.Bytes(), "\n"), []byte("\n")) {
				ev.WriteString("data: ")
				ev.Write(line)
				ev.WriteByte('\n')
			}
			ev.WriteByte('\n')
			_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := w.Write(ev.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Server) json(w http.ResponseWriter, r *http.Request) {
	if !s.requireLogin(w, r, false) {
		return
	}
	snap := sorted(s.opt.Provider.Snapshot())
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(snap); err != nil {
		s.log.Error("encoding /status.json", "err", err)
		http.Error(w, "status.json: the snapshot cannot be encoded: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

type loginView struct {
	T     tr
	Lang  string
	Langs []langLink
	CSRF  string
	Error string
	Snap  Snapshot
}

func (s *Server) loginView(w http.ResponseWriter, r *http.Request, errKey string) loginView {
	lang := pickLang(r)
	v := loginView{T: tr{lang}, Lang: lang, CSRF: s.csrf(w, r), Snap: s.opt.Provider.Snapshot()}
	for _, l := range languages {
		v.Langs = append(v.Langs, langLink{Code: l, Name: langNames[l], Current: l == lang})
	}
	if errKey != "" {
		v.Error = v.T.T(errKey)
	}
	return v
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.auth.loggedIn(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "login", s.loginView(w, r, ""))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if s.auth.open() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !s.auth.checkCSRF(r) {
		s.metrics.logins.inc("bad_csrf")
		s.metrics.rejected.inc("bad_csrf")
		s.render(w, http.StatusForbidden, "login", s.loginView(w, r, "bad_csrf"))
		return
	}
	id, err := s.auth.login(r, r.PostFormValue("password"))
	switch {
	case errors.Is(err, errTooMany):
		s.metrics.logins.inc("too_many")
		s.log.Warn("status page: sign-in refused, too many failures", "remote", s.remoteIP(r))
		s.render(w, http.StatusTooManyRequests, "login", s.loginView(w, r, "too_many"))
		return
	case err != nil:
		s.metrics.logins.inc("wrong_password")
		s.log.Warn("status page: wrong password", "remote", s.remoteIP(r))
		s.render(w, http.StatusUnauthorized, "login", s.loginView(w, r, "wrong_password"))
		return
	}
	s.metrics.logins.inc("ok")
	s.log.Info("status page: signed in", "remote", s.remoteIP(r))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.opt.Proxy.Secure(r), MaxAge: int(s.opt.SessionTTL / time.Second)})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !s.auth.checkCSRF(r) {
		s.metrics.rejected.inc("bad_csrf")
		s.errorPage(w, r, http.StatusForbidden, tr{pickLang(r)}.T("bad_csrf"))
		return
	}
	s.auth.logout(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang stores the language switch in a cookie and goes back to the page.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("l")
	if !supported(l) {
		s.metrics.rejected.inc("bad_request")
		http.Error(w, fmt.Sprintf("unknown language %q (known: %s)", l, strings.Join(languages, ", ")), http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteStrictMode})
	next := "/"
	if !s.auth.loggedIn(r) {
		next = "/login"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) ack(w http.ResponseWriter, r *http.Request) {
	if s.opt.API != nil && r.Header.Get("Authorization") != "" {
		s.opt.API.ServeHTTP(w, r) // a machine, with its token
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	t := tr{pickLang(r)}
	if !s.requireLogin(w, r, false) {
		return
	}
	if s.opt.Acker == nil {
		s.metrics.rejected.inc("no_acker")
		s.errorPage(w, r, http.StatusNotFound, t.T("no_acker"))
		return
	}
	if !s.auth.checkCSRF(r) {
		s.metrics.rejected.inc("bad_csrf")
		s.errorPage(w, r, http.StatusForbidden, t.T("bad_csrf"))
		return
	}
	id := r.PathValue("id")
	err := s.opt.Acker.Ack(r.Context(), id, "status page, "+s.remoteIP(r))
	switch {
	case errors.Is(err, ErrUnknownAlert):
		s.metrics.rejected.inc("unknown_alert")
		s.errorPage(w, r, http.StatusNotFound, t.T("unknown_alert"))
		return
	case err != nil:
		s.metrics.rejected.inc("ack_error")
		s.log.Error("status page: acknowledge", "alert", id, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, t.T("ack_failed", err.Error()))
		return
	}
	s.metrics.acks.Add(1)
	s.log.Info("status page: alert acknowledged", "alert", id, "remote", s.remoteIP(r))
	http.Redirect(w, r, "/#alerts", http.StatusSeeOther)
}

type errorView struct {
	T       tr
	Lang    string
	Message string
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	lang := pickLang(r)
	s.render(w, status, "error", errorView{T: tr{lang}, Lang: lang, Message: msg})
}

func (s *Server) remoteIP(r *http.Request) string { return s.opt.Proxy.ClientIP(r) }

func sorted(s Snapshot) Snapshot {
	sort.Slice(s.Sensors, func(i, j int) bool {
		if s.Sensors[i].Zone != s.Sensors[j].Zone {
			return s.Sensors[i].Zone < s.Sensors[j].Zone
		}
		return s.Sensors[i].ID < s.Sensors[j].ID
	})
	sort.Slice(s.Counters, func(i, j int) bool {
		if s.Counters[i].Source != s.Counters[j].Source {
			return s.Counters[i].Source < s.Counters[j].Source
		}
		return s.Counters[i].Outcome < s.Counters[j].Outcome
	})
	return s
}

var _ http.Handler = (*Server)(nil)
