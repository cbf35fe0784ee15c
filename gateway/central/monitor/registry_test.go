package monitor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/central/web"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/webauth"
)

// TestRegistry: the monitor keeps the registry against a real InfluxDB: it serves
// the signed bundle to registry.Fetch over HTTPS, shows per centre the version its
// gateway's heartbeat reports, raises an unrated gateway and a gateway on an old
// version, counts the gateways per version, and lets the region's officer edit the
// entry (logged, awaiting signature) but not another region's.
func TestRegistry(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	client := influxsink.NewClient(in.URL(), "", "", in.Bucket(), 30*time.Second)
	t.Cleanup(client.Close)
	now := time.Now()
	src, priv, keyFile := ministrySetup(t)
	dir, bdir, state := t.TempDir(), t.TempDir(), t.TempDir()
	entryOf := func(id string, v int) []byte {
		s := strings.ReplaceAll(string(src), "id: shymkent-csu-2", "id: "+id)
		return []byte(regexp.MustCompile(`(?m)^version: 1$`).ReplaceAllString(s, "version: "+strconv.Itoa(v)))
	}
	sign := func(id string, v int, published time.Time) {
		e, err := registry.Parse(id+".yaml", entryOf(id, v))
		if err != nil {
			t.Fatal(err)
		}
		b, err := registry.Sign(e, priv)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(bdir, id+"-v"+strconv.Itoa(v)+".bundle")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, published, published); err != nil {
			t.Fatal(err)
		}
	}
	// csu-2 runs v1 (in force); csu-3 reports unrated; csu-4 runs v1 while v2 is in
	// force; csu-5 runs v1 and v2 was published a moment ago (within the grace).
	long := now.Add(-5 * time.Hour)
	for _, id := range []string{"shymkent-csu-2", "shymkent-csu-3", "shymkent-csu-4", "shymkent-csu-5"} {
		sign(id, 1, long)
		if err := os.WriteFile(filepath.Join(dir, id+".yaml"), entryOf(id, 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sign("shymkent-csu-4", 2, long)
	sign("shymkent-csu-5", 2, now.Add(-time.Minute))
	at := strconv.FormatInt(now.Add(-2*time.Minute).UnixNano(), 10)
	if err := client.WriteRecord(context.Background(),
		`gateway,centre=shymkent-csu-2 uptime_s=50i,registry_version=1i,config_hash="4f2a9c" `+at,
		`gateway,centre=shymkent-csu-3 uptime_s=50i,registry_version=0i,config_hash="77aa01" `+at,
		`gateway,centre=shymkent-csu-4 uptime_s=50i,registry_version=1i,config_hash="5b5b5b" `+at,
		`gateway,centre=shymkent-csu-5 uptime_s=50i,registry_version=1i,config_hash="6c6c6c" `+at); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	yml := `
influx: {url: "` + in.URL() + `", bucket: "` + in.Bucket() + `"}
state_dir: ` + state + `
registry: {dir: ` + dir + `, bundles_dir: ` + bdir + `, ministry_key: ` + keyFile + `, grace: 1h, rate_per_minute: 100}
centres:
  - {id: shymkent-csu-2, name: "CSU 2", region: Shymkent}
  - {id: shymkent-csu-3, name: "CSU 3", region: Shymkent}
  - {id: shymkent-csu-4, name: "CSU 4", region: Shymkent}
  - {id: shymkent-csu-5, name: "CSU 5", region: Shymkent}
  - {id: almaty-1, name: "Almaty 1", region: Almaty}
users:
  - {name: min, role: ministry, lang: en, password_hash: "` + string(hash) + `"}
  - {name: shym, role: region, region: Shymkent, lang: en, password_hash: "` + string(hash) + `"}
  - {name: alm, role: region, region: Almaty, lang: en, password_hash: "` + string(hash) + `"}
`
	cfg, err := ParseConfig([]byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := app.Watcher.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.RegistryWatch.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(app.Handler())
	defer srv.Close()

	// The monitor's rating job scores exactly the centres with a signed bundle in
	// force: every registered centre-day has a point, the unsigned centres none.
	t.Run("RatingScoresSignedCentres", func(t *testing.T) {
		if app.Rating == nil {
			t.Fatal("a monitor with a registry runs no rating job")
		}
		days, err := app.Rating.Cycle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		signed := map[string]bool{}
		for _, e := range app.Registry.Entries() {
			signed[e.Centre.ID] = true
		}
		if len(signed) == 0 {
			t.Fatal("no signed registry entry in force")
		}
		rated := map[string]bool{}
		for _, d := range days {
			if !signed[d.Centre] {
				t.Errorf("rated %s, which has no signed bundle in force", d.Centre)
			}
			rated[d.Centre] = true
		}
		for c := range signed {
			if !rated[c] {
				t.Errorf("signed centre %s got no rating day", c)
			}
		}
	})

	t.Run("BundleFetched", func(t *testing.T) {
		data, err := registry.Fetch(ctx, srv.Client(), srv.URL+"/registry/v1/shymkent-csu-4.bundle")
		if err != nil {
			t.Fatal(err)
		}
		e, err := registry.Verify(data, priv.Public().(ed25519.PublicKey))
		if err != nil || e.Version != 2 || e.Centre.ID != "shymkent-csu-4" {
			t.Fatalf("fetched %v %v", e, err)
		}
		if _, err := registry.Fetch(ctx, srv.Client(), srv.URL+"/registry/v1/almaty-1.bundle"); err == nil || !strings.Contains(err.Error(), "404") {
			t.Fatalf("a centre without bundle: %v", err)
		}
	})

	t.Run("VersionsAndAttention", func(t *testing.T) {
		st := app.RegistryWatch.States()
		want := map[string]string{"shymkent-csu-2": "", "shymkent-csu-3": store.RegistryUnrated, "shymkent-csu-4": store.RegistryOld, "shymkent-csu-5": ""}
		for id, p := range want {
			if st[id].Problem != p {
				t.Errorf("%s: problem %q, want %q (%+v)", id, st[id].Problem, p, st[id])
			}
		}
		if st["shymkent-csu-2"].ConfigHash != "4f2a9c" || st["shymkent-csu-5"].InForce != 1 || st["shymkent-csu-5"].Latest != 2 {
			t.Errorf("states %+v", st)
		}
		rows, err := app.Server.Overview(ctx, &web.User{Name: "min", Role: web.RoleMinistry})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			switch r.Info.ID {
			case "shymkent-csu-3":
				if !hasReason(r, "reason.unrated") {
					t.Errorf("unrated gateway not flagged: %+v", r.Reasons)
				}
			case "shymkent-csu-4":
				if !hasReason(r, "reason.registry") {
					t.Errorf("old registry not flagged: %+v", r.Reasons)
				}
			case "shymkent-csu-2", "shymkent-csu-5":
				if hasReason(r, "reason.registry") || hasReason(r, "reason.unrated") {
					t.Errorf("%s flagged: %+v", r.Info.ID, r.Reasons)
				}
			}
		}
	})

	shym := tlsLogin(t, srv, "shym")
	t.Run("Pages", func(t *testing.T) {
		body, code := get(t, shym, srv.URL+"/")
		if code != 200 || !strings.Contains(body, "runs registry v1") || !strings.Contains(body, "UNRATED") || !strings.Contains(body, "v1 ≠ v2") {
			t.Fatalf("overview (%d) lacks the registry column:\n%s", code, body)
		}
		body, code = get(t, shym, srv.URL+"/registry")
		if code != 200 {
			t.Fatalf("registry page: %d", code)
		}
		for _, w := range []string{`<tr data-version="v1"><td>v1</td><td class="num">3</td>`, `<tr data-version="unrated"><td>unrated</td><td class="num">1</td>`} {
			if !strings.Contains(body, w) {
				t.Errorf("rollout table lacks %s:\n%s", w, body)
			}
		}
		body, _ = get(t, shym, srv.URL+"/registry/shymkent-csu-2")
		for _, w := range []string{"runs registry v1", "4f2a9c", "room-101", "max_interval", "Ministry duty officer", "2025.1"} {
			if w == "max_interval" {
				w = "Max interval"
			}
			if !strings.Contains(body, w) {
				t.Errorf("centre registry page lacks %q", w)
			}
		}
	})

	// The centre page names each chart by its zone, then the zone's kind: the
	// registry entry's name (from the entry file, else from the signed bundle in
	// force, as the demo's monitor has only bundles), else the zone's id. It said
	// "living room · living room", the kind twice.
	t.Run("ChartTitlesNameZones", func(t *testing.T) {
		at := strconv.FormatInt(now.Add(-10*time.Minute).UnixNano(), 10)
		var lines []string
		for _, id := range []string{"shymkent-csu-2", "shymkent-csu-3", "almaty-1"} {
			lines = append(lines, `climate,centre=`+id+`,zone=room-101,zone_kind=living,sensor=t1 temperature_c=21.5 `+at)
		}
		if err := client.WriteRecord(ctx, lines...); err != nil {
			t.Fatal(err)
		}
		// csu-3 has its signed bundle only: no entry file.
		entryFile := filepath.Join(dir, "shymkent-csu-3.yaml")
		if err := os.Rename(entryFile, entryFile+".away"); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(entryFile+".away", entryFile)
		officer := tlsLogin(t, srv, "min")
		titleRE := regexp.MustCompile(`<text x="[^"]*" y="12" class="ct">([^<]*)</text>`)
		for id, want := range map[string]string{
			"shymkent-csu-2": "Room 101 · living room",
			"shymkent-csu-3": "Room 101 · living room",
			"almaty-1":       "room-101 · living room",
		} {
			body, code := get(t, officer, srv.URL+"/centre/"+id+"?lang=en")
			if code != 200 {
				t.Fatalf("centre page of %s: %d", id, code)
			}
			var titles []string
			for _, m := range titleRE.FindAllStringSubmatch(body, -1) {
				titles = append(titles, html.UnescapeString(m[1]))
			}
			if len(titles) == 0 || titles[0] != want {
				t.Errorf("%s: chart titles %q, want the first %q", id, titles, want)
			}
		}
	})

	t.Run("Edit", func(t *testing.T) {
		u := srv.URL + "/registry/shymkent-csu-2"
		body, _ := get(t, shym, u)
		csrf := csrfRE.FindStringSubmatch(body)[1]
		post := func(c *http.Client, text, tok string) (string, int) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(url.Values{"csrf": {tok}, "entry": {text}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b), resp.StatusCode
		}
		v2 := string(entryOf("shymkent-csu-2", 2))
		bad := strings.Replace(v2, "kind: living, name: \"Room 101\"", "kind: livng, name: \"Room 101\"", 1)
		body, code := post(shym, bad, csrf)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "shymkent-csu-2.yaml:") || !strings.Contains(body, "zones[7].kind") {
			t.Fatalf("bad entry: %d\n%s", code, body)
		}
		if _, code := post(shym, v2, "wrong-token"); code != http.StatusForbidden {
			t.Fatalf("wrong CSRF token: %d", code)
		}
		edited := strings.Replace(v2, "name: \"Room 101\"", "name: \"Room 101 (two beds)\"", 1)
		body, code = post(shym, edited, csrf)
		if code != 200 || !strings.Contains(body, "version 2 awaiting signature") || !strings.Contains(body, "Saved as version 2") {
			t.Fatalf("edit: %d\n%s", code, body)
		}
		if !strings.Contains(body, "shym (Shymkent)") || !strings.Contains(body, "&#43;  - {id: room-101, kind: living, name: &#34;Room 101 (two beds)&#34;") {
			t.Errorf("change log not shown:\n%s", body)
		}
		alm := tlsLogin(t, srv, "alm")
		if _, code := get(t, alm, u); code != http.StatusNotFound {
			t.Errorf("another region's officer opened the entry: %d", code)
		}
		abody, _ := get(t, alm, srv.URL+"/registry/almaty-1")
		if m := csrfRE.FindStringSubmatch(abody); m == nil {
			t.Fatalf("no form for the own region's centre:\n%s", abody)
		} else if _, code := post(alm, edited, m[1]); code != http.StatusNotFound {
			t.Errorf("another region's officer posted an edit: %d", code)
		}
		log, err := app.Registry.Changes("shymkent-csu-2")
		if err != nil || len(log) != 1 || log[0].User != "shym" || log[0].From != 1 || log[0].To != 2 {
			t.Fatalf("change log %+v %v", log, err)
		}
	})

	// The registry's pages in a browser, in every language at both sizes, with
	// their times in the ministry's zone, named.
	t.Run("Browser", func(t *testing.T) {
		c := tlsLogin(t, srv, "min")
		u, _ := url.Parse(srv.URL)
		tok := ""
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == webauth.SessionCookie {
				tok = ck.Value
			}
		}
		if tok == "" {
			t.Fatal("no session cookie")
		}
		b := newBrowser(t, app.Handler(), tok)
		b.checkPages([]browserPage{{"registry", "/registry", "#registry"}, {"registry-centre", "/registry/shymkent-csu-2", "#status"}},
			func(pg browserPage, lang, size, where string) {
				if pg.name != "registry-centre" {
					return
				}
				if got := b.Eval(`document.querySelector("#status").textContent`); !strings.Contains(got, "Asia/Almaty (UTC+05)") {
					t.Errorf("%s: the signed bundle's not-before time %q does not name its zone", where, got)
				}
			})
	})
}

// tlsLogin logs user in on a TLS test server.
func tlsLogin(t *testing.T, srv *httptest.Server, user string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := new(http.Client)
	*c = *srv.Client() // a copy: srv.Client() is one client, and each login has its own jar
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	body, _ := get(t, c, srv.URL+"/login")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no login token")
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"csrf": {m[1]}, "user": {user}, "password": {testPassword}, "next": {"/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %s", user, resp.Status)
	}
	return c
}

// TestRatingRefreshesOverview: once the rating job has written its days, the
// overview's summary (the centre_latest run this process serves from memory)
// shows yesterday's rating at once, not an interval of the rollup later. (The
// demo's overview showed "—" for yesterday and 30 days in its first minute: the
// rollup's first run came before the rating's first cycle.)
func TestRatingRefreshesOverview(t *testing.T) {
	in := testenv.StartInflux(t, "saqshy")
	src, priv, keyFile := ministrySetup(t)
	dir, bdir, state := t.TempDir(), t.TempDir(), t.TempDir()
	e, err := registry.Parse("shymkent-csu-2.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := registry.Sign(e, priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bdir, "shymkent-csu-2-v1.bundle"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	cfg, err := ParseConfig([]byte(`
influx: {url: "` + in.URL() + `", bucket: "` + in.Bucket() + `"}
state_dir: ` + state + `
registry: {dir: ` + dir + `, bundles_dir: ` + bdir + `, ministry_key: ` + keyFile + `}
centres:
  - {id: shymkent-csu-2, name: "CSU 2", region: Shymkent}
users:
  - {name: min, role: ministry, lang: en, password_hash: "` + string(hash) + `"}
`))
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); app.Latest.Run(ctx, time.Hour) }()
	t.Cleanup(func() { cancel(); <-done })
	yesterday := func() (store.CentreRow, bool) {
		d, _, ok := app.Latest.Snapshot(time.Now())
		if !ok {
			return store.CentreRow{}, false
		}
		rows := store.Assemble(d, cfg.Centres, nil, store.Attention{}, time.UTC, time.Now())
		return rows[0], true
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r, ok := yesterday(); ok {
			if r.HasYesterday || r.HasMonth {
				t.Fatalf("fixture: the rollup's first run found a rating before the rating ran: %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rollup's first run did not end within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := app.Rating.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		r, _ := yesterday()
		if r.HasYesterday && r.HasMonth {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the rating's cycle the overview still shows no yesterday or 30 days: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ministrySetup returns the sample registry entry's source and a new ministry
// key: its private half and the file holding its public half.
func ministrySetup(t *testing.T) ([]byte, ed25519.PrivateKey, string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "firmware-config", "registry", "shymkent-csu-2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := registry.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "ministry.pub")
	if err := os.WriteFile(keyFile, registry.MarshalPublicKey(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	return src, priv, keyFile
}
