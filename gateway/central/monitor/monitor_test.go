package monitor

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/saqshy/saqshy/gateway/alert/notify"
	"github.com/saqshy/saqshy/gateway/central/jobs"
	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/central/web"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/webauth"
)

// lp is a parsed line of line protocol (as the fleet writes it).
type lp struct {
	m      string
	tags   map[string]string
	fields map[string]string
	t      time.Time
}

func parseLP(t *testing.T, line string) lp {
	t.Helper()
	head, rest, _ := strings.Cut(line, " ")
	i := strings.LastIndexByte(rest, ' ')
	fieldsPart, ts := rest[:i], rest[i+1:]
	parts := strings.Split(head, ",")
	p := lp{m: parts[0], tags: map[string]string{}, fields: map[string]string{}}
	for _, kv := range parts[1:] {
		k, v, _ := strings.Cut(kv, "=")
		p.tags[k] = v
	}
	for _, kv := range strings.Split(fieldsPart, ",") {
		k, v, _ := strings.Cut(kv, "=")
		p.fields[k] = strings.Trim(strings.TrimSuffix(v, "i"), `"`)
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("bad line %q", line)
	}
	p.t = time.Unix(0, n)
	return p
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

// recorder passes lines on to InfluxDB and keeps them for the independent check.
type recorder struct {
	w     sim.LineWriter
	mu    sync.Mutex
	lines []string
}

func (r *recorder) WriteRecord(ctx context.Context, lines ...string) error {
	r.mu.Lock()
	for _, l := range lines {
		r.lines = append(r.lines, strings.Split(l, "\n")...)
	}
	r.mu.Unlock()
	return r.w.WriteRecord(ctx, lines...)
}

type env struct {
	in      *testenv.Influx
	bucket  string           // the database/retention policy the fleet is in
	clock   func() time.Time // the monitor's clock (time.Now, or a fake one)
	tick    func()           // moves a fake clock on a little (nil: the real clock moves itself)
	points  []lp
	now     time.Time // the fleet's end
	cfg     *Config
	app     *App
	srv     *httptest.Server
	centres []sim.FleetCentre
}

const testPassword = "correct horse battery"

// implausibleReason is the reason the central rating gives c00002's days with
// data in the fixture (the rating's plausibility rules, gateway/central/rating).
const implausibleReason = "sensor c00002-mf-1 (med-fridge): no compressor cycles: 0.0 swings of 0.20 °C or more in the last 24 hours (a running fridge makes at least 10)"

// newEnv starts InfluxDB, fills it with a simulated fleet of six centres (three days,
// every fifth centre's gateway silent for two hours) and starts the monitor on it.
// Centres 1–2 are registered in Shymkent, 3–4 in Almaty, 5 in Astana; 6 is not
// registered.
func newEnv(t *testing.T) *env {
	t.Helper()
	in := testenv.StartInflux(t, "saqshy")
	return newEnvAt(t, in, in.Bucket(), time.Now(), 3, nil)
}

// newEnvAt is newEnv on a running InfluxDB, with days of the fleet in bucket ending
// at now; clock nil is the real clock, else the monitor (and its store's relative
// query ranges) run on clock.
func newEnvAt(t *testing.T, in *testenv.Influx, bucket string, now time.Time, days int, clock func() time.Time) *env {
	t.Helper()
	e := &env{in: in, bucket: bucket, clock: clock, now: now}
	if e.clock == nil {
		e.clock = time.Now
	}
	client := influxsink.NewClient(e.in.URL(), "", "", bucket, 30*time.Second)
	t.Cleanup(client.Close)
	rec := &recorder{w: client}
	var err error
	e.centres, err = sim.WriteFleet(context.Background(), rec, sim.FleetOptions{Centres: 6, Days: days, End: e.now, Step: 10 * time.Minute, Seed: 7, SilentEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rec.lines {
		e.points = append(e.points, parseLP(t, l))
	}
	// The rating (gateway/central/rating, tested there) is the ministry's own day
	// score; here its points are derived from the gateway's so that every assertion
	// tells which one the monitor read: 2.5 below the gateway's total, and
	// c00002's oldest day without data (0, capped as a silent gateway).
	var rating []string
	oldest := map[string]time.Time{}
	for _, p := range e.points {
		if p.m == "safety_score" && p.tags["period"] == "day" {
			if o, ok := oldest[p.tags["centre"]]; !ok || p.t.Before(o) {
				oldest[p.tags["centre"]] = p.t
			}
		}
	}
	for _, p := range e.points {
		if p.m != "safety_score" || p.tags["period"] != "day" {
			continue
		}
		c, gw := p.tags["centre"], num(t, p.fields["total"])
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
		line := "rating,centre=" + c + ",period=day "
		if c == "c00002" && p.t.Equal(oldest[c]) {
			line += `total=0,temperature=0,availability=0,has_data=false,weights_version="` + p.fields["weights_version"] +
				`",caps="gateway_silent_24h",capped=true,gateway_total=` + f(gw) + `,differs=true,differs_in="temperature,availability"`
		} else {
			line += "total=" + f(max(0, gw-2.5)) + ",has_data=true"
			for _, k := range store.ComponentNames {
				if v, ok := p.fields[k]; ok {
					line += "," + k + "=" + v
				}
			}
			line += `,weights_version="` + p.fields["weights_version"] + `",caps="` + p.fields["caps"] + `",capped=` + p.fields["capped"] +
				",gateway_total=" + f(gw) + `,differs=true,differs_in="temperature"`
			if c == "c00002" {
				line += `,implausible="` + implausibleReason + `"`
			}
		}
		rating = append(rating, line+" "+strconv.FormatInt(p.t.UnixNano(), 10))
	}
	if err := rec.WriteRecord(context.Background(), rating...); err != nil {
		t.Fatal(err)
	}
	for _, l := range rating {
		e.points = append(e.points, parseLP(t, l))
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	state := t.TempDir()
	yml := `
influx: {url: "` + e.in.URL() + `", bucket: "` + bucket + `"}
state_dir: ` + state + `
silent_after: 45m
refresh_every: 2s
centres:
  - {id: c00001, name: "Shymkent centre 1", region: Shymkent, timezone: Asia/Almaty}
  - {id: c00002, name: "Shymkent centre 2", region: Shymkent, timezone: Asia/Almaty}
  - {id: c00003, name: "Almaty centre 3", region: Almaty, timezone: Asia/Almaty}
  - {id: c00004, name: "Almaty centre 4", region: Almaty, timezone: Asia/Aqtobe}
  - {id: c00005, name: "Astana centre 5", region: Astana, timezone: Asia/Almaty}
users:
  - {name: min, role: ministry, lang: en, password_hash: "` + string(hash) + `"}
  - {name: shym, role: region, region: Shymkent, lang: en, password_hash: "` + string(hash) + `"}
`
	e.cfg, err = ParseConfig([]byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	e.app, err = New(e.cfg, slog.New(slog.DiscardHandler), clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.Watcher.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.app.Server.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// client returns an HTTP client logged in as user.
func (e *env) client(t *testing.T, user string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := e.loginToken(t, c)
	resp, err := c.PostForm(e.srv.URL+"/login", url.Values{"csrf": {csrf}, "user": {user}, "password": {testPassword}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %s", user, resp.Status)
	}
	return c
}

// session logs user in and returns the session cookie's value.
func (e *env) session(t *testing.T, user string) string {
	t.Helper()
	c := e.client(t, user)
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == webauth.SessionCookie {
			return ck.Value
		}
	}
	t.Fatalf("logged in as %s without a session cookie", user)
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) loginToken(t *testing.T, c *http.Client) string {
	t.Helper()
	body, _ := get(t, c, e.srv.URL+"/login")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token on the login page:\n%s", body)
	}
	return m[1]
}

func get(t *testing.T, c *http.Client, u string) (string, int) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

// expected is the independent computation of a centre's overview numbers from the
// points the simulator wrote.
type expected struct {
	live, yesterday, month float64 // yesterday and month: the rating's (central) totals
	monthDays, withData    int
	hasYesterday           bool
	coverage               float64
	night                  store.Night // the latest round night's overall point
	hasNight               bool
	openCritical           int
	lastHeartbeat          time.Time
	liveComponents         map[string]float64
}

func (e *env) expect(t *testing.T, centre string, loc *time.Location) expected {
	t.Helper()
	var x expected
	var liveAt, covAt, nightAt time.Time
	yStart := store.StartOfDay(e.now, loc).AddDate(0, 0, -1)
	var sum float64
	var n int
	type akey struct{ kind, zone, sev, subj string }
	alertLast := map[akey]lp{}
	for _, p := range e.points {
		if p.tags["centre"] != centre {
			continue
		}
		switch {
		case p.m == "safety_score" && p.tags["period"] == "live" && p.t.After(e.now.Add(-6*time.Hour)) && p.t.After(liveAt):
			liveAt, x.live = p.t, num(t, p.fields["total"])
			x.liveComponents = map[string]float64{}
			for _, k := range store.ComponentNames {
				if v, ok := p.fields[k]; ok {
					x.liveComponents[k] = num(t, v)
				}
			}
		case p.m == "rating" && p.tags["period"] == "day":
			if p.t.Equal(yStart) {
				x.yesterday, x.hasYesterday = num(t, p.fields["total"]), true
			}
			if !p.t.Before(e.now.AddDate(0, 0, -30)) {
				sum += num(t, p.fields["total"])
				n++
				if p.fields["has_data"] == "true" {
					x.withData++
				}
			}
		case p.m == "coverage" && p.tags["period"] == "live" && p.tags["zone_kind"] == "all" && p.t.After(covAt):
			covAt, x.coverage = p.t, num(t, p.fields["ratio"])
		case p.m == "round_night" && p.tags["zone_kind"] == "" && p.t.After(nightAt) && p.t.After(e.now.Add(-36*time.Hour)):
			nightAt, x.hasNight = p.t, true
			x.night = store.Night{At: p.t.UTC(), Night: p.tags["night"], Due: int64(num(t, p.fields["due"])), OnTime: int64(num(t, p.fields["on_time"])),
				Late: int64(num(t, p.fields["late"])), Missed: int64(num(t, p.fields["missed"])), Compliance: num(t, p.fields["compliance"]),
				Unknown: p.fields["unknown"] == "true"}
		case p.m == "alert" && p.tags["severity"] == "critical":
			k := akey{p.tags["kind"], p.tags["zone"], p.tags["severity"], p.tags["subject"]}
			if p.t.After(alertLast[k].t) {
				alertLast[k] = p
			}
		case p.m == "gateway" && p.t.After(x.lastHeartbeat):
			x.lastHeartbeat = p.t
		}
	}
	if n > 0 {
		x.month = sum / float64(n)
	}
	x.monthDays = n
	for _, p := range alertLast {
		if p.fields["state"] != "resolved" {
			x.openCritical++
		}
	}
	return x
}

// checkOverview compares the overview's numbers with an independent computation from
// the points written.
func (e *env) checkOverview(t *testing.T, rows []store.CentreRow) {
	t.Helper()
	if len(rows) != 6 {
		t.Fatalf("overview has %d centres, want 6 (5 registered + 1 unregistered)", len(rows))
	}
	for _, r := range rows {
		loc := r.Info.Location()
		x := e.expect(t, r.Info.ID, loc)
		if !r.HasLive || r.Live.Total != x.live {
			t.Errorf("%s live score %v (has %v), want %v", r.Info.ID, r.Live.Total, r.HasLive, x.live)
		}
		for k, v := range x.liveComponents {
			if r.Live.Components[k] != v {
				t.Errorf("%s live %s = %v, want %v", r.Info.ID, k, r.Live.Components[k], v)
			}
		}
		if len(r.Live.Components) != len(x.liveComponents) {
			t.Errorf("%s live components %v, want %v", r.Info.ID, r.Live.Components, x.liveComponents)
		}
		if r.HasYesterday != x.hasYesterday || r.Yesterday.Total != x.yesterday {
			t.Errorf("%s yesterday %v (%v), want %v (%v)", r.Info.ID, r.Yesterday.Total, r.HasYesterday, x.yesterday, x.hasYesterday)
		}
		if math.Abs(r.Month-x.month) > 1e-9 {
			t.Errorf("%s 30-day mean %v, want %v", r.Info.ID, r.Month, x.month)
		}
		if r.MonthDays != x.monthDays || r.MonthWithData != x.withData {
			t.Errorf("%s %d/%d days with data, want %d/%d", r.Info.ID, r.MonthWithData, r.MonthDays, x.withData, x.monthDays)
		}
		if r.Coverage != x.coverage {
			t.Errorf("%s coverage %v, want %v", r.Info.ID, r.Coverage, x.coverage)
		}
		if r.Night.Compliance != x.night.Compliance {
			t.Errorf("%s rounds %v, want %v", r.Info.ID, r.Night.Compliance, x.night.Compliance)
		}
		// Every field of the night from the one point (not a mix of two nights).
		if got := r.Night; r.HasNight != x.hasNight || !got.At.Equal(x.night.At) || got.Night != x.night.Night || got.Due != x.night.Due ||
			got.OnTime != x.night.OnTime || got.Late != x.night.Late || got.Missed != x.night.Missed || got.Unknown != x.night.Unknown {
			t.Errorf("%s last night %+v (%v), want %+v (%v)", r.Info.ID, got, r.HasNight, x.night, x.hasNight)
		}
		if r.OpenCritical != x.openCritical {
			t.Errorf("%s open critical %d, want %d", r.Info.ID, r.OpenCritical, x.openCritical)
		}
		if !r.Gateway.LastSeen.Equal(x.lastHeartbeat) {
			t.Errorf("%s last seen %v, want %v", r.Info.ID, r.Gateway.LastSeen, x.lastHeartbeat)
		}
		wantSilent := r.Info.ID == "c00005" || r.Info.ID == "c00006" && false
		if r.Registered && r.Gateway.Silent != wantSilent {
			t.Errorf("%s silent = %v, want %v", r.Info.ID, r.Gateway.Silent, wantSilent)
		}
		if r.Info.ID == "c00006" && (r.Registered || !hasReason(r, "reason.unregistered")) {
			t.Errorf("c00006 should be unregistered and need attention: %+v", r)
		}
	}
}

func TestMonitor(t *testing.T) {
	e := newEnv(t)
	ministry := &web.User{Name: "min", Role: web.RoleMinistry}

	t.Run("OverviewMatchesRawPoints", func(t *testing.T) {
		rows, asOf, _, err := e.app.Server.OverviewRows(context.Background(), ministry)
		if err != nil {
			t.Fatal(err)
		}
		if !asOf.IsZero() {
			t.Fatalf("overview read centre_latest (run %v) before any run", asOf)
		}
		e.checkOverview(t, rows)
	})

	t.Run("OverviewFromLatestRollup", func(t *testing.T) {
		ctx := context.Background()
		raw, err := store.BuildOverview(ctx, e.app.Store, e.cfg.Centres, e.app.Watcher.States(), e.cfg.Attention, e.cfg.reportLoc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		// A centre this writer wrote before that is no longer in the data is retracted.
		ghost := &store.CentreRow{Info: store.CentreInfo{ID: "c09999"}, HasCoverage: true, Coverage: 0.5}
		if err := e.app.Store.Write(ctx, store.LatestLine("c09999", store.EncodeLatest(ghost), time.Now().Add(-time.Minute).UnixNano())); err != nil {
			t.Fatal(err)
		}
		e.app.Latest.Remember("c09999", store.EncodeLatest(ghost), time.Now())
		st, err := e.app.Latest.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Centres != 6 || st.Written != 7 {
			t.Errorf("first run: %+v, want 6 centres, 7 points (6 rows + 1 retraction)", st)
		}
		rows, asOf, source, err := e.app.Server.OverviewRows(ctx, ministry)
		if err != nil {
			t.Fatal(err)
		}
		if asOf.IsZero() || source != web.SourceInflux {
			t.Fatalf("overview read %q (run %v) after a run, want %q", source, asOf, web.SourceInflux)
		}
		e.checkOverview(t, rows)
		if len(rows) != len(raw) {
			t.Fatalf("rollup overview has %d rows, raw %d", len(rows), len(raw))
		}
		for i := range rows {
			a, b := fmt.Sprintf("%+v", rows[i]), fmt.Sprintf("%+v", raw[i])
			if a != b {
				t.Errorf("centre %s differs:\nrollup %s\nraw    %s", raw[i].Info.ID, a, b)
			}
		}
		if st, err := e.app.Latest.Step(ctx); err != nil || st.Written != 0 || st.Centres != 6 {
			t.Errorf("second run with nothing changed: %+v %v, want 6 centres, nothing written", st, err)
		}
		// The writer's process serves its last run from memory while it is fresh.
		e.app.Latest.SetSnapshotAge(time.Minute)
		defer e.app.Latest.SetSnapshotAge(0)
		mem, asOf, source, err := e.app.Server.OverviewRows(ctx, ministry)
		if err != nil {
			t.Fatal(err)
		}
		if source != web.SourceMemory || !asOf.Equal(e.app.Latest.SnapshotAt()) {
			t.Fatalf("overview read %q as of %v, want the snapshot of %v", source, asOf, e.app.Latest.SnapshotAt())
		}
		e.checkOverview(t, mem)
		for i := range mem {
			if a, b := fmt.Sprintf("%+v", mem[i]), fmt.Sprintf("%+v", raw[i]); a != b {
				t.Errorf("centre %s differs:\nmemory %s\nraw    %s", raw[i].Info.ID, a, b)
			}
		}
		e.app.Latest.SetSnapshotAge(time.Nanosecond) // the snapshot is now older than its age
		if _, _, source, _ := e.app.Server.OverviewRows(ctx, ministry); source != web.SourceInflux {
			t.Errorf("a stale snapshot was served (%q)", source)
		}
		c := e.client(t, "min")
		if body, _ := get(t, c, e.srv.URL+"/"); !strings.Contains(body, "centre_latest") {
			t.Error("overview page does not say it read centre_latest")
		}
	})

	t.Run("OverviewPage", func(t *testing.T) {
		c := e.client(t, "min")
		body, code := get(t, c, e.srv.URL+"/?sort=score&dir=desc")
		if code != 200 {
			t.Fatalf("overview: %d %s", code, body)
		}
		for _, id := range []string{"c00001", "c00002", "c00003", "c00004", "c00005", "c00006"} {
			if !strings.Contains(body, `data-centre="`+id+`"`) {
				t.Errorf("ministry overview lacks %s", id)
			}
		}
		if !strings.Contains(body, "unregistered") || !strings.Contains(body, "SILENT") {
			t.Error("overview shows neither the unregistered centre nor the silent gateway")
		}
		body, _ = get(t, c, e.srv.URL+"/?region=Almaty")
		if strings.Contains(body, `data-centre="c00001"`) || !strings.Contains(body, `data-centre="c00003"`) {
			t.Error("region filter Almaty did not keep only Almaty's centres")
		}
		body, _ = get(t, c, e.srv.URL+"/?attention=1")
		if !strings.Contains(body, `data-centre="c00005"`) || !strings.Contains(body, `data-centre="c00006"`) {
			t.Error(`"needs attention" filter lost the silent or the unregistered centre`)
		}
		// Languages.
		body, _ = get(t, c, e.srv.URL+"/?lang=ru")
		if !strings.Contains(body, "Обзор") {
			t.Error("no Russian overview")
		}
		body, _ = get(t, c, e.srv.URL+"/?lang=kk")
		if !strings.Contains(body, "Шолу") {
			t.Error("no Kazakh overview")
		}
	})

	t.Run("RegionUserSeesOnlyItsRegion", func(t *testing.T) {
		c := e.client(t, "shym")
		body, code := get(t, c, e.srv.URL+"/?lang=en")
		if code != 200 {
			t.Fatalf("overview: %d", code)
		}
		for _, id := range []string{"c00001", "c00002"} {
			if !strings.Contains(body, `data-centre="`+id+`"`) {
				t.Errorf("region user misses own centre %s", id)
			}
		}
		for _, id := range []string{"c00003", "c00004", "c00005", "c00006"} {
			if strings.Contains(body, id) {
				t.Errorf("region user sees %s of another region", id)
			}
		}
		if _, code := get(t, c, e.srv.URL+"/?region=Almaty"); code != http.StatusForbidden {
			t.Errorf("region user filtering another region: %d, want 403", code)
		}
		for _, id := range []string{"c00003", "c00006", "nosuch"} {
			if body, code := get(t, c, e.srv.URL+"/centre/"+id); code != http.StatusNotFound || strings.Contains(body, "Almaty centre") {
				t.Errorf("region user opening centre %s: %d, want 404", id, code)
			}
		}
		if _, code := get(t, c, e.srv.URL+"/centre/c00001"); code != 200 {
			t.Errorf("region user opening own centre: %d", code)
		}
		month := store.StartOfDay(e.now, time.FixedZone("", 5*3600)).AddDate(0, 0, -1).Format("2006-01")
		if _, code := get(t, c, e.srv.URL+"/export/download?format=csv&month="+month+"&centre=c00003"); code != http.StatusNotFound {
			t.Errorf("region user exporting another region's centre: %d, want 404", code)
		}
		body, code = get(t, c, e.srv.URL+"/export/download?format=csv&month="+month)
		if code != 200 {
			t.Fatalf("export: %d %s", code, body)
		}
		for _, id := range []string{"c00003", "c00004", "c00005", "c00006"} {
			if strings.Contains(body, id) {
				t.Errorf("region user's export holds %s", id)
			}
		}
		if !strings.Contains(body, "c00001") {
			t.Error("region user's export lacks its own centre")
		}
		body, code = get(t, c, e.srv.URL+"/export/download?format=json&month="+month)
		if code != 200 || strings.Contains(body, "c00003") {
			t.Errorf("region user's JSON export: %d, holds c00003: %v", code, strings.Contains(body, "c00003"))
		}
		// The daily report: the region user sees only its region.
		if _, err := e.app.Reporter.Make(context.Background()); err != nil {
			t.Fatal(err)
		}
		date := e.now.In(e.cfg.reportLoc).Format("2006-01-02")
		body, code = get(t, c, e.srv.URL+"/reports/"+date)
		if code != 200 || strings.Contains(body, "Astana") || strings.Contains(body, "c00005") || !strings.Contains(body, "Shymkent") {
			t.Errorf("region user's report: %d\n%s", code, body)
		}
		mc := e.client(t, "min")
		body, _ = get(t, mc, e.srv.URL+"/reports/"+date)
		if !strings.Contains(body, "c00005") || !strings.Contains(body, "gateway silent") {
			t.Errorf("ministry's report lacks the silent centre c00005:\n%s", body)
		}
		if _, err := os.Stat(filepath.Join(e.cfg.StateDir, "reports", date+".html")); err != nil {
			t.Errorf("report not kept as HTML: %v", err)
		}
	})

	t.Run("CentrePageShowsCentralAndGatewayScores", func(t *testing.T) {
		c := e.client(t, "min")
		body, code := get(t, c, e.srv.URL+"/centre/c00002")
		if code != 200 {
			t.Fatalf("centre page: %d", code)
		}
		x := e.expect(t, "c00002", time.FixedZone("", 5*3600))
		var gw, central string
		for _, p := range e.points {
			if p.m == "rating" && p.tags["centre"] == "c00002" && p.fields["has_data"] == "true" {
				gw, central = p.fields["gateway_total"], p.fields["total"]
				break
			}
		}
		f1 := func(s string) string { return fmt.Sprintf("%.1f", num(t, s)) }
		for _, want := range []string{
			"Rating (ministry)", "Gateway", "Difference",
			`<td class="num central">` + f1(central) + `</td>`,
			`<td class="num gateway">` + f1(gw) + `</td>`,
			`<td class="num difference bad">-2.5</td>`,
			"differs in: temperature<", "differs in: temperature,availability", "no verified data",
			fmt.Sprintf("%d/%d days with data", x.withData, x.monthDays),
		} {
			if !strings.Contains(body, want) {
				t.Errorf("centre page lacks %q", want)
			}
		}
		if x.withData != x.monthDays-1 {
			t.Errorf("fixture: c00002 %d/%d days with data, want one day without", x.withData, x.monthDays)
		}
		body, _ = get(t, c, e.srv.URL+"/")
		if !strings.Contains(body, fmt.Sprintf("%d/%d days with data", x.withData, x.monthDays)) {
			t.Errorf("overview lacks c00002's days with data")
		}
	})

	t.Run("ExportMatchesScorePoints", func(t *testing.T) {
		c := e.client(t, "min")
		loc, _ := time.LoadLocation("Asia/Almaty")
		month := store.StartOfDay(e.now, loc).AddDate(0, 0, -1).Format("2006-01")
		// The expected rows: every registered centre's rating day points (the central
		// score, no longer the gateway's safety_score) in its local month.
		registered := map[string]store.CentreInfo{}
		for _, ci := range e.cfg.Centres {
			registered[ci.ID] = ci
		}
		want := map[string][]string{}
		days, withData := map[string]int{}, map[string]int{}
		for _, p := range e.points {
			if p.m != "rating" || p.tags["period"] != "day" {
				continue
			}
			if ci, ok := registered[p.tags["centre"]]; ok && p.t.In(ci.Location()).Format("2006-01") == month {
				days[ci.ID]++
				if p.fields["has_data"] == "true" {
					withData[ci.ID]++
				}
			}
		}
		for _, p := range e.points {
			if p.m != "rating" || p.tags["period"] != "day" {
				continue
			}
			ci, ok := registered[p.tags["centre"]]
			if !ok {
				continue
			}
			local := p.t.In(ci.Location())
			if local.Format("2006-01") != month {
				continue
			}
			row := []string{ci.ID, local.Format("2006-01-02"), p.fields["total"]}
			for _, k := range store.ComponentNames {
				row = append(row, p.fields[k])
			}
			row = append(row, p.fields["weights_version"], p.fields["capped"], p.fields["caps"],
				p.fields["has_data"], p.fields["gateway_total"], p.fields["differs"], fmt.Sprintf("%d/%d", withData[ci.ID], days[ci.ID]))
			want[ci.ID+" "+local.Format("2006-01-02")] = row
		}
		if len(want) == 0 {
			t.Fatal("no day points in the month: the fixture is wrong")
		}
		body, code := get(t, c, e.srv.URL+"/export/download?format=csv&month="+month)
		if code != 200 {
			t.Fatalf("csv: %d %s", code, body)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != strings.Join(web.ExportCSVHeader, ",") {
			t.Errorf("csv header %v", recs[0])
		}
		got := map[string][]string{}
		for _, r := range recs[1:] {
			row := append([]string{r[0], r[3]}, r[4:]...)
			got[r[0]+" "+r[3]] = row
		}
		if len(got) != len(want) {
			t.Errorf("csv has %d centre-days, want %d", len(got), len(want))
		}
		for k, w := range want {
			g := got[k]
			if g == nil {
				t.Errorf("csv lacks %s", k)
				continue
			}
			for i := range w {
				if i >= 2 && i < 8 && w[i] != "" && g[i] != "" {
					if num(t, w[i]) != num(t, g[i]) {
						t.Errorf("%s column %d: %s, want %s", k, i, g[i], w[i])
					}
				} else if g[i] != w[i] {
					t.Errorf("%s column %d: %q, want %q", k, i, g[i], w[i])
				}
			}
		}
		body, code = get(t, c, e.srv.URL+"/export/download?format=json&month="+month)
		if code != 200 {
			t.Fatalf("json: %d", code)
		}
		var exp web.Export
		if err := json.Unmarshal([]byte(body), &exp); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ce := range exp.Centres {
			for _, d := range ce.Days {
				n++
				w := want[ce.ID+" "+d.Date]
				if w == nil || num(t, w[2]) != d.Total || d.WeightsVersion != sim.WeightsVersion {
					t.Errorf("json %s %s: total %v version %q, want %v", ce.ID, d.Date, d.Total, d.WeightsVersion, w)
				}
			}
		}
		if n != len(want) || len(exp.WeightsVersion) != 1 || exp.WeightsVersion[0] != sim.WeightsVersion {
			t.Errorf("json: %d days (want %d), versions %v", n, len(want), exp.WeightsVersion)
		}
		// Every export is logged.
		b, err := os.ReadFile(filepath.Join(e.cfg.StateDir, "exports.log"))
		if err != nil {
			t.Fatal(err)
		}
		var last web.ExportLogEntry
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
			t.Fatal(err)
		}
		if last.User != "min" || last.Format != "json" || last.Month != month || last.Rows != n {
			t.Errorf("last export log entry %+v", last)
		}
	})

	t.Run("CentrePage", func(t *testing.T) {
		c := e.client(t, "min")
		for _, rng := range []string{"24h", "7d"} {
			body, code := get(t, c, e.srv.URL+"/centre/c00001?range="+rng)
			if code != 200 {
				t.Fatalf("centre page %s: %d %s", rng, code, body)
			}
			for _, want := range []string{"<svg", "med-fridge", "Night rounds", "Alert history", "Safety score per day", sim.WeightsVersion} {
				if !strings.Contains(body, want) {
					t.Errorf("centre page %s lacks %q", rng, want)
				}
			}
			if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
				t.Errorf("centre page %s refers to an external URL", rng)
			}
		}
		// The 7-day charts read the rollup once it exists.
		if _, err := e.app.Rollup.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		series, err := e.app.Store.Climate(context.Background(), "c00001", e.now.Add(-7*24*time.Hour), time.Hour, true)
		if err != nil || len(series) != 8 {
			t.Fatalf("rollup: %d zones, %v", len(series), err)
		}
		// Check one hour of the rollup against the raw points.
		var pt store.Point
		for _, s := range series {
			if s.Name == "room-101" {
				pt = s.Points[len(s.Points)/2]
			}
		}
		var sum, mn, mx float64 = 0, math.Inf(1), math.Inf(-1)
		n := 0
		for _, p := range e.points {
			if p.m == "climate" && p.tags["centre"] == "c00001" && p.tags["zone"] == "room-101" && !p.t.Before(pt.T) && p.t.Before(pt.T.Add(time.Hour)) {
				v := num(t, p.fields["temperature_c"])
				sum += v
				mn, mx = math.Min(mn, v), math.Max(mx, v)
				n++
			}
		}
		if n == 0 || math.Abs(pt.V-sum/float64(n)) > 1e-9 || pt.Min != mn || pt.Max != mx {
			t.Errorf("rollup hour %v: mean %v min %v max %v, raw: %d points mean %v min %v max %v", pt.T, pt.V, pt.Min, pt.Max, n, sum/float64(n), mn, mx)
		}
		body, _ := get(t, c, e.srv.URL+"/centre/c00001?range=7d")
		if !strings.Contains(body, "climate_1h") {
			t.Error("7-day page did not use the rollup")
		}
	})

	t.Run("BadRequests", func(t *testing.T) {
		c := e.client(t, "min")
		for _, tc := range []struct{ path, want string }{
			{"/?sort=bogus", "sort"},
			{"/?dir=up", "dir"},
			{"/?attention=2", "attention"},
			{"/?region=Nowhere", "region"},
			{"/centre/c00001?range=1y", "range"},
			{"/export/download?month=2026-13&format=csv", "month"},
			{"/export/download?month=&format=csv", "month"},
			{"/export/download?month=2026-01&format=xml", "format"},
			{"/reports/yesterday", "date"},
		} {
			body, code := get(t, c, e.srv.URL+tc.path)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d %q, want 400 naming %s", tc.path, code, strings.TrimSpace(body), tc.want)
			}
		}
		if _, code := get(t, c, e.srv.URL+"/centre/"+url.PathEscape(`a"b<c`)); code != http.StatusNotFound {
			t.Errorf("centre id with quotes: %d, want 404", code)
		}
	})

	t.Run("LoginAndCSRF", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if _, code := get(t, c, e.srv.URL+"/"); code != http.StatusSeeOther {
			t.Errorf("overview without login: %d, want a redirect to /login", code)
		}
		tok := e.loginToken(t, c)
		resp, _ := c.PostForm(e.srv.URL+"/login", url.Values{"csrf": {tok}, "user": {"min"}, "password": {"wrong"}})
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), web.Translate("ru", "login.bad")) {
			t.Errorf("bad password: %d", resp.StatusCode)
		}
		tok = e.loginToken(t, c)
		resp, _ = c.PostForm(e.srv.URL+"/login", url.Values{"csrf": {tok}, "user": {"nobody"}, "password": {testPassword}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unknown user: %d", resp.StatusCode)
		}
		// A login form posted without the token (cross-site) is refused.
		fresh := &http.Client{}
		resp, _ = fresh.PostForm(e.srv.URL+"/login", url.Values{"user": {"min"}, "password": {testPassword}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("login without CSRF token: %d, want 403", resp.StatusCode)
		}
		// Logged in: a POST without or with a wrong token, or from another origin, is refused.
		lc := e.client(t, "min")
		resp, _ = lc.PostForm(e.srv.URL+"/logout", url.Values{"csrf": {"forged"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("logout with a forged token: %d, want 403", resp.StatusCode)
		}
		body, _ := get(t, lc, e.srv.URL+"/")
		tok = csrfRE.FindStringSubmatch(body)[1]
		req, _ := http.NewRequest("POST", e.srv.URL+"/logout", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, _ = lc.Do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("logout from another origin: %d, want 403", resp.StatusCode)
		}
		resp, _ = lc.PostForm(e.srv.URL+"/logout", url.Values{"csrf": {tok}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("logout: %d", resp.StatusCode)
		}
		if _, code := get(t, lc, e.srv.URL+"/"); code != http.StatusSeeOther {
			t.Errorf("after logout the session still works: %d", code)
		}
		// An open redirect through next is not possible.
		if webauth.SafeNext("//evil.example/x") != "/" || webauth.SafeNext("https://evil.example") != "/" || webauth.SafeNext("/centre/c1") != "/centre/c1" {
			t.Error("safeNext lets an external URL through")
		}
	})

	t.Run("SilentGatewayWebhook", func(t *testing.T) { testSilent(t, e) })
	t.Run("Room", func(t *testing.T) { testRoom(t, e) })
	t.Run("Browser", func(t *testing.T) { testBrowser(t, e) })
	t.Run("BrowserRating", func(t *testing.T) { testBrowserRating(t, e) })
}

func hasReason(r store.CentreRow, key string) bool {
	for _, x := range r.Reasons {
		if x.Key == key {
			return true
		}
	}
	return false
}

// testSilent silences a gateway: exactly one signed central alert, none repeated
// after a restart, a failed delivery retried, one resolution when it reports again.
func testSilent(t *testing.T, e *env) {
	secret := []byte("s3cret-for-the-test")
	var mu sync.Mutex
	var got []jobs.Message
	failNext := false
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !notify.Verify(secret, b, r.Header.Get(notify.SignatureHeader)) {
			t.Errorf("webhook signature does not verify: %q", r.Header.Get(notify.SignatureHeader))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if failNext {
			failNext = false
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var m jobs.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		got = append(got, m)
	}))
	defer recv.Close()
	messages := func() []jobs.Message { mu.Lock(); defer mu.Unlock(); return append([]jobs.Message(nil), got...) }

	client := influxsink.NewClient(e.in.URL(), "", "", e.in.Bucket(), 10*time.Second)
	defer client.Close()
	real := time.Now()
	beat := func(at time.Time) {
		t.Helper()
		if err := client.WriteRecord(context.Background(), "gateway,centre=quiet uptime_s=5i,mqtt_connected=true "+strconv.FormatInt(at.UnixNano(), 10)); err != nil {
			t.Fatal(err)
		}
	}
	beat(real.Add(-40 * time.Minute))
	clock := real.Add(-39 * time.Minute)
	now := func() time.Time { return clock }
	dir := t.TempDir()
	centres := []store.CentreInfo{{ID: "quiet", Name: "Quiet centre", Region: "Shymkent"}}
	hook := &jobs.Webhook{URL: recv.URL, Secret: secret}
	w, err := jobs.NewWatcher(e.app.Store, hook, centres, 10*time.Minute, dir, slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatal(err)
	}
	poll := func() {
		t.Helper()
		if err := w.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	if len(messages()) != 0 || w.States()["quiet"].Silent {
		t.Fatalf("a reporting gateway raised %v", messages())
	}
	clock = real.Add(-25 * time.Minute) // 15 min without a heartbeat
	failNext = true                     // the first delivery fails: retried at the next poll
	poll()
	if len(messages()) != 0 || !w.States()["quiet"].Silent {
		t.Fatalf("silent gateway not flagged at once (flagged %v), or the failed delivery counted: %v", w.States()["quiet"].Silent, messages())
	}
	clock = clock.Add(time.Minute)
	poll()
	clock = clock.Add(time.Minute)
	poll()
	// A restart: the incident and its delivery survive.
	w, err = jobs.NewWatcher(e.app.Store, hook, centres, 10*time.Minute, dir, slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	poll()
	ms := messages()
	if len(ms) != 1 || ms[0].State != "firing" || ms[0].Centre != "quiet" || ms[0].Type != "silent_gateway" {
		t.Fatalf("want exactly one firing alert, got %+v", ms)
	}
	beat(real.Add(-5 * time.Minute))
	clock = real.Add(-4 * time.Minute)
	poll()
	poll()
	ms = messages()
	if len(ms) != 2 || ms[1].State != "resolved" || ms[1].ID != ms[0].ID {
		t.Fatalf("want the incident resolved once, got %+v", ms)
	}
	if w.States()["quiet"].Silent {
		t.Error("gateway still flagged after reporting")
	}
	// A tampered body does not verify.
	if notify.Verify(secret, []byte(`{"x":1}`), notify.Sign(secret, []byte(`{"x":2}`))) {
		t.Error("signature verifies a different body")
	}
}

func TestConfigErrors(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	good := `influx: {url: "http://127.0.0.1:8086", bucket: "saqshy/autogen"}
state_dir: /tmp/x
centres: [{id: c1, region: Shymkent}]
users: [{name: a, role: ministry, password_hash: "` + string(hash) + `"}]
`
	if _, err := ParseConfig([]byte(good)); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	for _, tc := range []struct{ name, yml, want string }{
		{"no influx", `state_dir: /x
users: [{name: a, role: ministry, password_hash: "` + string(hash) + `"}]`, "influx.url: required"},
		{"bad url", strings.Replace(good, "http://127.0.0.1:8086", "ftp://x", 1), "influx.url"},
		{"unknown key", good + "colour: red\n", "colour"},
		{"bad proxy", good + "proxy: {trusted: [\"10.0.0.1\", \"nginx.local\"]}\n", `proxy.trusted: trusted proxy "nginx.local" is neither an address nor a CIDR prefix`},
		{"proxy header without proxies", good + "proxy: {header: X-Real-IP}\n", `proxy.header: "X-Real-IP" is read only from trusted proxies`},
		{"bad duration", good + "silent_after: soon\n", "not a duration"},
		{"short silence", good + "silent_after: 5s\n", "silent_after"},
		{"bad report time", good + "report: {time: \"25:00\"}\n", "report.time"},
		{"bad tz", strings.Replace(good, "region: Shymkent}", "region: Shymkent, timezone: Mars/Olympus}", 1), "centres[0].timezone"},
		{"dup centre", strings.Replace(good, "centres: [{id: c1, region: Shymkent}]", "centres: [{id: c1, region: A}, {id: c1, region: A}]", 1), "listed twice"},
		{"bad id", strings.Replace(good, "id: c1", "id: \"c 1\"", 1), "centres[0].id"},
		{"plain password", strings.Replace(good, string(hash), "hunter2", 1), "not a bcrypt hash"},
		{"bad role", strings.Replace(good, "role: ministry", "role: admin", 1), "users[0].role"},
		{"region user no region", strings.Replace(good, "role: ministry", "role: region", 1), "users[0].region"},
		{"region unknown", strings.Replace(good, "role: ministry", "role: region, region: Mars", 1), "no registered centre's region"},
		{"webhook without secret", good + "notify: {webhook: {url: \"http://127.0.0.1:9/x\"}}\n", "secret is required"},
		{"bad lang", strings.Replace(good, "role: ministry", "role: ministry, lang: de", 1), "users[0].lang"},
		{"email without to", good + "notify: {email: {host: smtp.example.kz, from: a@example.kz}}\n", "notify.email: host, from and to"},
		{"email bad tls", good + "notify: {email: {host: h, from: a@b, to: [c@d], tls: ssl}}\n", "notify.email.tls"},
		{"email user without password", good + "notify: {email: {host: h, from: a@b, to: [c@d], username: u}}\n", "needs a password"},
		{"telegram without token", good + "notify: {telegram: {chat_ids: [\"1\"]}}\n", "bot token"},
		{"bad ingest url", good + "ingest: {url: \"127.0.0.1:8087\"}\n", "ingest.url: \"127.0.0.1:8087\" is not an http(s) URL"},
		{"latest too often", good + "latest: {every: 1s}\n", "latest.every"},
		{"not yaml", "{{{", "parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing config file accepted")
	}
}

// TestLatestTask runs the query of deploy/central/influx-setup.sh's
// saqshy-centre-latest task (InfluxDB 1.8 has no to(), so the test writes its rows
// itself) and checks the overview read from them against the raw measurements.
func TestLatestTask(t *testing.T) {
	newEnv(t).checkLatestTask(t)
}

// checkLatestTask runs the task's query on the env's clock, writes its rows as the
// task would and checks the overview read from them.
func (e *env) checkLatestTask(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	script, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "central", "influx-setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(script)
	i := strings.Index(s, "cat > /tmp/saqshy-latest.flux <<'FLUX'\n")
	if i < 0 {
		t.Fatal("influx-setup.sh lacks the saqshy-latest.flux heredoc")
	}
	s = s[i:]
	s = s[strings.Index(s, "\n")+1:]
	j := strings.Index(s, "// the task writes:")
	if j < 0 {
		t.Fatal(`the task lacks its "// the task writes:" marker`)
	}
	var flux []string
	for _, l := range strings.Split(s[:j], "\n") {
		if !strings.HasPrefix(l, "option task") {
			flux = append(flux, strings.ReplaceAll(l, `"BUCKET"`, store.FluxString(e.cfg.Influx.Bucket)))
		}
	}
	rows, err := e.app.Store.Query(ctx, strings.Join(flux, "\n")+"\nrows |> yield(name: \"rows\")\n", "centre")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("task query gave %d rows, want 6: %+v", len(rows), rows)
	}
	ts := e.clock().UnixNano()
	var lines []string
	for _, r := range rows {
		lines = append(lines, store.LatestLine(r.Centre(), r.Str(), ts))
	}
	lines = append(lines, fmt.Sprintf("%s centres=%di %d", store.LatestRunMeasurement, len(rows), ts))
	if err := e.app.Store.Write(ctx, lines...); err != nil {
		t.Fatal(err)
	}
	if e.tick != nil {
		e.tick() // the rows are stamped at now, which a range's stop excludes on InfluxDB 2.x
	}
	raw, err := store.BuildOverview(ctx, e.app.Store, e.cfg.Centres, e.app.Watcher.States(), e.cfg.Attention, e.cfg.reportLoc, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	got, asOf, source, err := e.app.Server.OverviewRows(ctx, &web.User{Name: "min", Role: web.RoleMinistry})
	if err != nil {
		t.Fatal(err)
	}
	if asOf.IsZero() || source != web.SourceInflux {
		t.Fatal("overview did not read the task's centre_latest")
	}
	e.checkOverview(t, got)
	for i := range got {
		a, b := fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", raw[i])
		if a != b {
			t.Errorf("centre %s differs:\ntask %s\nraw  %s", raw[i].Info.ID, a, b)
		}
	}
}
