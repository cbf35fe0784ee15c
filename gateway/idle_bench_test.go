package gateway_test

import (
	"context"
	"flag"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/sim"
)

var benchIdleFor = flag.Duration("bench.idle", 5*time.Minute, "how long BenchmarkIdleCentre measures the gateway at the realistic centre (after a minute's warm-up)")

// BenchmarkIdleCentre: the gateway's daemon (built as for the Pi, with the unit's
// environment) runs against a real Mosquitto and InfluxDB while the realistic centre
// publishes live, in real time: 40 sensors in the six formats at their firmware's
// default intervals, 11 Frigate cameras (stats every minute, two flaky) and the
// first slot of a night of rounds. After a minute's warm-up it measures the
// process's CPU (utime + stime from /proc) for -bench.idle, and samples its RSS every
// second. Every temperature published must land in InfluxDB.
//
//	go test -run='^$' -bench=IdleCentre -benchtime=1x -count=1 -timeout 30m ./gateway/
func BenchmarkIdleCentre(b *testing.B) {
	bin := buildGateway(b)
	var r results
	for b.Loop() {
		r = append(r, idleCentre(b, bin))
		b.Logf("run %d: %v", len(r), r[len(r)-1])
	}
	r.report(b)
}

func idleCentre(b *testing.B, bin string) figures {
	const warmUp = time.Minute
	mq, broker := startBroker(b)
	in, influxd := startDatabase(b)
	c := sim.NewRealisticCentre("idle-c1", 20)
	start := time.Now()
	rounds := sim.AddRounds(c, start, 8*time.Hour, time.Hour) // the first slot's scans fall in the first minutes
	c.Config.Status.Listen = "127.0.0.1:0"                    // served, as on the Pi, but nobody reads it
	cfgPath := writeBenchConfig(b, c, mq, in)
	status := watchStatus(b, mq.URL(), "saqshy/"+c.Config.Centre.ID+"/gateway/status")
	gw := startChild(b, "gateway", bin, gatewayArgs(cfgPath, "idle")...)
	status.waitFor(b, "online", 30*time.Second)

	pub, err := sim.Connect(mq.URL(), "bench-idle-centre")
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var readings, msgs atomic.Int64 // temperatures and messages published
	done := make(chan error, 1)
	go func() { done <- publishLive(ctx, c, rounds, pub, &readings, &msgs) }()

	time.Sleep(warmUp)
	self := &server{name: "gateway", pid: gw.cmd.Process.Pid}
	cpu0, mq0, in0, msgs0, t0 := self.cpu(b), broker.cpu(b), influxd.cpu(b), msgs.Load(), time.Now()
	var rss, anon, file []float64
	tick := time.NewTicker(time.Second)
	for time.Since(t0) < *benchIdleFor {
		<-tick.C
		st := procStatus(self.pid)
		rss, anon, file = append(rss, float64(st["VmRSS"])/1024), append(anon, float64(st["RssAnon"])/1024), append(file, float64(st["RssFile"])/1024)
	}
	tick.Stop()
	cpu, mqCPU, inCPU, sent, wall := self.cpu(b)-cpu0, broker.cpu(b)-mq0, influxd.cpu(b)-in0, msgs.Load()-msgs0, time.Since(t0)
	if *benchMemProf != "" { // what is live at idle, to prefix-idle.pprof.1
		_ = gw.cmd.Process.Signal(syscall.SIGUSR1)
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	want := readings.Load()
	waitLanded(b, in, "climate", "temperature_c", want, gw, time.Minute)
	u := gw.stop(b)
	if got := in.Count(b, "climate", "temperature_c", ""); got != want {
		b.Fatalf("InfluxDB holds %d temperatures, %d were published", got, want)
	}
	perHour := func(d time.Duration) float64 { return d.Seconds() / wall.Hours() }
	return figures{
		"gateway_cpu_s/h":     perHour(cpu),
		"gateway_cpu_%core":   cpu.Seconds() / wall.Seconds() * 100,
		"gateway_rss_MB":      median(slices.Clone(rss)),
		"gateway_rss_max_MB":  slices.Max(rss),
		"gateway_anon_MB":     median(slices.Clone(anon)),
		"gateway_anon_max_MB": slices.Max(anon),
		"gateway_file_MB":     median(slices.Clone(file)), // the executable's resident pages
		"gateway_peak_rss_MB": u.rssMB,                    // VmHWM: start-up included
		"broker_cpu_s/h":      perHour(mqCPU),
		"influxd_cpu_s/h":     perHour(inCPU),
		"msgs/h":              float64(sent) / wall.Hours(),
		"temperatures":        float64(want),
		"measured_s":          wall.Seconds(),
	}
}

// publishLive publishes the centre in real time until ctx ends: the availability
// messages, then each device at its sensor's interval (the first ones spread over
// it), Frigate's stats at the cameras' interval and the rounds' scans at their times.
// It counts the temperatures and the messages published. A tick's messages are all
// sent even when ctx ends meanwhile, so that the count of temperatures is exact.
func publishLive(ctx context.Context, c *sim.Centre, rounds *sim.Rounds, pub sim.Publisher, readings, msgs *atomic.Int64) error {
	send := func(ms []sim.Message) error {
		for _, m := range ms {
			if err := pub.Publish(context.WithoutCancel(ctx), m); err != nil {
				return err
			}
			msgs.Add(1)
		}
		return nil
	}
	if err := send(append(c.Availability(), c.CameraAvailability()...)); err != nil {
		return err
	}
	start := time.Now().Truncate(time.Second)
	next := make([]time.Time, len(c.Devices))
	for i, d := range c.Devices {
		next[i] = start.Add(d.Sensor.Interval.Std() * time.Duration(i) / time.Duration(len(c.Devices)))
	}
	statsEvery := c.Cameras[0].Config.StatsInterval.Std()
	nextStats := start
	scans := rounds.Plan()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		now := time.Now()
		for i, d := range c.Devices {
			if !now.Before(next[i]) {
				if err := send(c.DeviceTick(d, now)); err != nil {
					return err
				}
				readings.Add(1)
				next[i] = next[i].Add(d.Sensor.Interval.Std())
			}
		}
		if !now.Before(nextStats) {
			if err := send(c.CameraTick(now)); err != nil {
				return err
			}
			nextStats = nextStats.Add(statsEvery)
		}
		for len(scans) > 0 && !scans[0].At.After(now) {
			if err := send([]sim.Message{scans[0].Message}); err != nil {
				return err
			}
			scans = scans[1:]
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
