package rating

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/influxsink"
	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/plausibility"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/score"
	"github.com/saqshy/saqshy/gateway/sim"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// timedDB measures the time spent in queries: summed, by measurement, and the
// wall time during which at least one was running (busy).
type timedDB struct {
	DB
	mu       sync.Mutex
	queries  int
	total    time.Duration
	each     map[string]time.Duration // by measurement
	inflight int
	since    time.Time
	busy     time.Duration
}

func (d *timedDB) reset() {
	d.mu.Lock()
	d.queries, d.total, d.each, d.busy = 0, 0, map[string]time.Duration{}, 0
	d.mu.Unlock()
}

func (d *timedDB) Query(ctx context.Context, flux string, tags ...string) ([]store.Row, error) {
	d.mu.Lock()
	if d.inflight++; d.inflight == 1 {
		d.since = time.Now()
	}
	d.mu.Unlock()
	t0 := time.Now()
	rows, err := d.DB.Query(ctx, flux, tags...)
	took := time.Since(t0)
	d.mu.Lock()
	if d.inflight--; d.inflight == 0 {
		d.busy += time.Since(d.since)
	}
	d.queries++
	d.total += took
	m := flux
	if _, rest, ok := strings.Cut(flux, `_measurement == "`); ok {
		m, _, _ = strings.Cut(rest, `"`)
	}
	d.each[m] += took.Round(time.Millisecond)
	d.mu.Unlock()
	return rows, err
}

// BenchmarkRecomputeDay loads SAQSHY_BENCH_CENTRES simulated centres (default 200)
// with two days of history at SAQSHY_BENCH_STEP (default 10m) into InfluxDB 1.8,
// registers each centre with the zones and sensors the simulator wrote (maximum
// interval = the step), and times the rating of one closed day for all of them:
// wall time (queries, plausibility and computation) and the time spent in InfluxDB
// queries, SAQSHY_BENCH_CHUNKS centres at a time (Options.Chunk; default
// DefaultChunk), a sub-benchmark each.
//
// The load writes only what the rating reads (ratingOnly), in batches of 20,000
// lines from 4 writers. With SAQSHY_BENCH_DATA set to a directory the server's data
// is kept there and reused by the next run with the same centres and step (the
// history's end is kept in fleet.json). Figures: docs/BENCHMARKS.md.
func BenchmarkRecomputeDay(b *testing.B) {
	envInt := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
		return def
	}
	n := envInt("SAQSHY_BENCH_CENTRES", 200)
	step := 10 * time.Minute
	if v, err := time.ParseDuration(os.Getenv("SAQSHY_BENCH_STEP")); err == nil && v > 0 {
		step = v
	}
	var chunks []int // SAQSHY_BENCH_CHUNKS: centres per set of queries, e.g. "2000,200"
	for f := range strings.SplitSeq(os.Getenv("SAQSHY_BENCH_CHUNKS"), ",") {
		if v, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && v > 0 {
			chunks = append(chunks, v)
		}
	}
	if len(chunks) == 0 {
		chunks = []int{DefaultChunk}
	}
	dataDir := os.Getenv("SAQSHY_BENCH_DATA")
	in := testenv.StartInfluxWith(b, "saqshy", testenv.InfluxOptions{Dir: dataDir, Env: []string{"GOGC=200", "GOMEMLIMIT=4GiB"}})
	client := influxsink.NewClient(in.URL(), "", "", in.Bucket(), 300*time.Second)
	defer client.Close()
	type mark struct {
		Centres int
		Step    time.Duration
		End     time.Time
	}
	markPath := filepath.Join(dataDir, "fleet.json")
	var end time.Time
	var centres []sim.FleetCentre
	if raw, err := os.ReadFile(markPath); dataDir != "" && err == nil {
		var m mark
		if json.Unmarshal(raw, &m) == nil && m.Centres == n && m.Step == step {
			end, centres = m.End, sim.Fleet(n, 1, m.End, 0)
			b.Logf("reusing %s: %d centres × 2 days (step %v), history ending %v", dataDir, n, step, end)
		}
	}
	if centres == nil {
		end = time.Now().Truncate(step)
		t0 := time.Now()
		w := &ratingOnly{w: client}
		var err error
		centres, err = sim.WriteFleet(context.Background(), w, sim.FleetOptions{Centres: n, Days: 2, Step: step, End: end, Seed: 1, Parallel: 4, BatchSize: 20000})
		if err != nil {
			b.Fatal(err)
		}
		load := time.Since(t0)
		b.Logf("loaded %d centres × 2 days (step %v): %d lines of %d written in %v (%.0f lines/s)",
			n, step, w.kept.Load(), w.seen.Load(), load.Round(time.Second), float64(w.kept.Load())/load.Seconds())
		if dataDir != "" {
			raw, _ := json.Marshal(mark{Centres: n, Step: step, End: end})
			if err := os.WriteFile(markPath, raw, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	st := store.NewStore(in.URL(), "", "", in.Bucket())
	defer st.Close()
	ctx := context.Background()
	// Register what the simulator wrote.
	rows, err := st.Query(ctx, `from(bucket: "`+in.Bucket()+`") |> range(start: `+fluxTime(end.AddDate(0, 0, -3))+`, stop: `+fluxTime(end)+`)
  |> filter(fn: (r) => r._measurement == "climate" and r._field == "temperature_c")
  |> last()`, "centre", "sensor", "zone", "zone_kind")
	if err != nil {
		b.Fatal(err)
	}
	byID := map[string]*registry.Entry{}
	var list entries
	for _, c := range centres {
		e := &registry.Entry{Version: 1, Centre: registry.Centre{ID: c.ID, Name: c.Name, Region: c.Region, Timezone: "Asia/Almaty"},
			Recipients: []registry.Recipient{{Name: "duty", Email: "duty@example.org"}},
			Score:      registry.Score{WeightsVersion: score.DefaultWeightsVersion, Caps: "on"}}
		byID[c.ID] = e
		list = append(list, e)
	}
	for _, r := range rows {
		e := byID[r.Centre()]
		if e == nil {
			continue
		}
		e.Zones = append(e.Zones, registry.Zone{ID: r.Tags["zone"], Kind: r.Tags["zone_kind"], Coverage: "optional"})
		e.Sensors = append(e.Sensors, registry.Sensor{ID: r.Tags["sensor"], Zone: r.Tags["zone"], MaxInterval: registry.Duration(step)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Centre.ID < list[j].Centre.ID })
	loc, _ := time.LoadLocation("Asia/Almaty")
	day, _ := score.DayBounds(end.AddDate(0, 0, -1), loc)
	for _, chunk := range chunks {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			db := &timedDB{DB: st}
			j, err := New(Options{DB: db, Centres: list, Now: func() time.Time { return end }, Chunk: chunk})
			if err != nil {
				b.Fatal(err)
			}
			var walls []time.Duration
			for range b.N {
				db.reset()
				t0 := time.Now()
				days, err := j.ComputeDays(ctx, list, day, end)
				wall := time.Since(t0)
				if err != nil {
					b.Fatalf("after %v: %v", wall.Round(time.Second), err)
				}
				walls = append(walls, wall)
				withData, held := 0, 0
				for _, d := range days {
					if d.HasData {
						withData++
					}
					held += len(d.Implausible)
				}
				b.Logf("%d centres, day %s, %d a chunk: wall %v, of which queries running %v (%d queries, %v summed), the rest reading rows, plausibility and ComputeDay; %d with data, %d sensors held implausible",
					len(days), day.Format(time.DateOnly), chunk, wall.Round(time.Millisecond), db.busy.Round(time.Millisecond), db.queries, db.total.Round(time.Millisecond), withData, held)
				b.Logf("query time by measurement (summed): %v", db.each)
			}
			slices.Sort(walls)
			b.ReportMetric(walls[len(walls)/2].Seconds(), "s/day")
			b.ReportMetric(float64(walls[len(walls)/2].Milliseconds())/float64(n), "ms/centre")
		})
	}
}

// BenchmarkJudgeDay: the central plausibility rules (judge) over one centre-day of
// the example registry entry (63 sensors), every sensor reading at its registered
// maximum interval (fridges cycling, rooms drifting each its own way: none is held
// implausible): the computation the rating
// adds per centre-day, without InfluxDB. Figures: docs/BENCHMARKS.md.
func BenchmarkJudgeDay(b *testing.B) {
	e, err := registry.Load("../../../firmware-config/registry/shymkent-csu-2.yaml")
	if err != nil {
		b.Fatal(err)
	}
	start, end := score.DayBounds(day0, almaty)
	kinds := map[string]string{}
	for _, z := range e.Zones {
		kinds[z.ID] = z.Kind
	}
	var evs []telemetry.Event
	for i, s := range e.Sensors {
		for t := start; t.Before(end); t = t.Add(s.MaxInterval.Std()) {
			x := float64(t.Unix())
			v := 21 + math.Sin(x/7200+float64(i)) + 0.4*math.Sin(x/float64(1500+97*i)) // each room its own drift
			if plausibility.ClassOf(kinds[s.Zone]) == plausibility.Cycling {
				v = cycling(t)
			}
			evs = append(evs, telemetry.Event{Time: t, Sensor: s.ID, Values: []telemetry.Value{{Metric: telemetry.Temperature, V: v}}})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	held := 0
	for b.Loop() {
		held = len(judge(e, evs, start, end))
	}
	b.ReportMetric(float64(len(evs)), "readings/centre-day")
	b.ReportMetric(float64(held), "implausible")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*2000/1e9, "s/2000-centres")
}

// ratingOnly writes only the lines the rating reads: climate, the heartbeats'
// uptime_s, the day's coverage and gateway scores, alerts. The simulator's other
// points (live scores and coverage, round nights, the heartbeats' other fields)
// would only make the load slower.
type ratingOnly struct {
	w          sim.LineWriter
	seen, kept atomic.Int64
}

func (r *ratingOnly) WriteRecord(ctx context.Context, records ...string) error {
	var b strings.Builder
	for _, rec := range records {
		for l := range strings.SplitSeq(rec, "\n") {
			r.seen.Add(1)
			key, rest, _ := strings.Cut(l, " ")
			switch m, tags, _ := strings.Cut(key, ","); m {
			case "climate", "alert":
			case "coverage", "safety_score":
				if !strings.Contains(tags, "period=day") {
					continue
				}
			case "gateway":
				fields, ts, ok := strings.Cut(rest, " ")
				first, _, _ := strings.Cut(fields, ",")
				if !ok || !strings.HasPrefix(first, "uptime_s=") {
					continue
				}
				l = key + " " + first + " " + ts
			default:
				continue
			}
			r.kept.Add(1)
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(l)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return r.w.WriteRecord(ctx, b.String())
}
