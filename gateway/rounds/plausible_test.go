package rounds

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

func plausibleCentre(t testing.TB) *config.Config {
	c := testConfig(t, "Asia/Almaty", "cp-1", "living", "cp-2", "living", "cp-3", "corridor", "cp-4", "corridor")
	c.Rounds.Checkpoints[0].Reader = "reader-1"
	c.Rounds.Checkpoints[1].Reader = "reader-2"
	c.Rounds.Checkpoints[2].Source, c.Rounds.Checkpoints[2].Topic = "zigbee2mqtt", "zigbee2mqtt/cp-3-button"
	c.Rounds.Checkpoints[3].Source, c.Rounds.Checkpoints[3].Topic = "tasmota", "tele/cp-4-reader/SENSOR"
	c.Rounds.Badges = []config.Badge{{ID: "aigul", UID: "AA11BB22", Name: "Aigul", Role: "nurse"}}
	c.Rounds.Distances = []config.Distance{{From: "cp-1", To: "cp-2", Metres: 100}}
	return c
}

// TestFlags: each kind of scan that cannot be real is flagged with its reason, kept
// as a point, and not counted.
func TestFlags(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	base := at(loc, 2026, 1, 10, 22, 30)
	tests := []struct {
		name   string
		run    func(s *sim) telemetry.Event // returns the scan to judge
		reason string
	}{
		{"plausible", func(s *sim) telemetry.Event {
			return s.scan(base, "cp-1", `"badge":"aigul","reader":"reader-1"`)
		}, ""},
		{"outside window", func(s *sim) telemetry.Event {
			return s.scan(at(loc, 2026, 1, 11, 12, 0), "cp-1", "")
		}, ReasonOutside},
		{"device time in the future", func(s *sim) telemetry.Event {
			return s.scan(base, "cp-1", fmt.Sprintf(`"ts":%d`, base.Add(10*time.Minute).Unix()))
		}, ReasonDeviceTime},
		{"device time old while the gateway was up", func(s *sim) telemetry.Event {
			return s.scan(base, "cp-1", fmt.Sprintf(`"ts":%d`, base.Add(-10*time.Minute).Unix()))
		}, ReasonDeviceTime},
		{"another checkpoint's tag", func(s *sim) telemetry.Event {
			return s.scan(base, "cp-1", `"tag":"04A00001"`) // cp-2's tag
		}, ReasonWrongTag},
		{"another checkpoint's reader", func(s *sim) telemetry.Event {
			return s.scan(base, "cp-1", `"reader":"reader-2"`)
		}, ReasonWrongRdr},
		{"duplicate", func(s *sim) telemetry.Event {
			s.scan(base, "cp-1", `"badge":"aigul"`)
			return s.scan(base.Add(30*time.Second), "cp-1", `"badge":"nurse-2"`)
		}, ReasonDuplicate},
		{"two places at once", func(s *sim) telemetry.Event {
			s.scan(base, "cp-1", `"badge":"aigul","reader":"reader-1"`)
			return s.scan(base.Add(2*time.Second), "cp-2", `"badge":"aigul","reader":"reader-2"`)
		}, ReasonTwoPlaces},
		{"too fast for the distance", func(s *sim) telemetry.Event {
			// 100 m at 0.5 s/m: 50 s; 40 s is too fast, though above the flat 20 s.
			s.scan(base, "cp-1", `"badge":"aigul"`)
			return s.scan(base.Add(40*time.Second), "cp-2", `"badge":"aigul"`)
		}, ReasonTooFast},
		{"too fast, flat minimum, card at a Tasmota reader", func(s *sim) telemetry.Event {
			s.scan(base, "cp-1", `"badge":"aigul"`)
			s.until(base.Add(10 * time.Second))
			return s.msg("tele/cp-4-reader/SENSOR", `{"RC522":{"UID":"aa:11:bb:22","DATA":"","Type":"MIFARE 1KB"}}`)
		}, ReasonTooFast},
		{"slow enough", func(s *sim) telemetry.Event {
			s.scan(base, "cp-1", `"badge":"aigul"`)
			return s.scan(base.Add(55*time.Second), "cp-2", `"badge":"aigul"`)
		}, ""},
		{"two walkers are not too fast", func(s *sim) telemetry.Event {
			s.scan(base, "cp-1", `"badge":"aigul"`)
			return s.scan(base.Add(5*time.Second), "cp-2", `"badge":"bota"`)
		}, ""},
		{"button press", func(s *sim) telemetry.Event {
			s.until(base)
			return s.msg("zigbee2mqtt/cp-3-button", `{"action":"single","battery":90,"linkquality":80}`)
		}, ""},
		{"clock not synchronised", func(s *sim) telemetry.Event {
			s.until(base)
			s.synced = false
			return s.msg("saqshy/c1/round/cp-1/scan", `{}`)
		}, ReasonUnsynced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, plausibleCentre(t), "", at(loc, 2026, 1, 10, 21, 59))
			e := tt.run(s)
			f := fields(e)
			if got := tag(e, "reason"); got != tt.reason || f["flagged"] != (tt.reason != "") || f["counted"] != (tt.reason == "") {
				t.Errorf("reason %q fields %v, want reason %q", got, f, tt.reason)
			}
			if e.Point.Check() != nil || e.Point.Measurement != "round" || tag(e, "event") != "scan" {
				t.Errorf("point %+v", e.Point)
			}
		})
	}
}

func TestMessagesThatAreNotScans(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	s := newSim(t, plausibleCentre(t), "", at(loc, 2026, 1, 10, 22, 30))
	s.until(at(loc, 2026, 1, 10, 22, 31))
	for _, m := range []struct{ topic, payload, reason string }{
		{"zigbee2mqtt/cp-3-button", `{"battery":90}`, ""},                  // not a press
		{"zigbee2mqtt/cp-3-button", `{"action":"release"}`, ""},            // follows a press
		{"tele/cp-4-reader/SENSOR", `{"DS18B20":{"Temperature":4.5}}`, ""}, // the probe the sensor path reads
		{"zigbee2mqtt/cp-3-button", `{"action":`, "bad_json"},
		{"zigbee2mqtt/cp-3-button", `{"action":5}`, "bad_value"},
		{"zigbee2mqtt/cp-3-button", `   `, "empty"},
		{"tele/cp-4-reader/SENSOR", `{"PN532":{"UID":"xyz"}}`, "bad_value"},
		{"tele/cp-4-reader/SENSOR", `{"PN532":{}}`, "bad_value"},
		{"tele/cp-4-reader/SENSOR", `[1]`, "bad_json"},
		{"saqshy/c1/round/cp-9/scan", `{}`, "unknown_checkpoint"},
		{"saqshy/c1/round/cp-1/scan", `{"ts":"yesterday"}`, "bad_time"},
		{"saqshy/c1/round/cp-1/scan", `{"ts":99999999999}`, "bad_time"},
		{"saqshy/c1/round/cp-1/scan", `{"tag":"a\u0000b"}`, "bad_value"},
		{"saqshy/c1/round/cp-1/scan", `null`, "bad_json"},
		{"saqshy/c1/round/cp-1/scan", string(make([]byte, telemetry.MaxPayload+1)), "too_large"},
	} {
		evs, err := s.c.Message(telemetry.Message{Topic: m.topic, Payload: []byte(m.payload), Received: s.now}, true)
		if got := telemetry.Reason(err); got != m.reason || len(evs) != 0 {
			t.Errorf("%s %.40q: reason %q (%v), %d points; want %q", m.topic, m.payload, got, err, len(evs), m.reason)
		}
	}
	// A retained scan is old news replayed at subscribe time.
	_, err := s.c.Message(telemetry.Message{Topic: "saqshy/c1/round/cp-1/scan", Payload: []byte(`{}`), Retained: true, Received: s.now}, true)
	if telemetry.Reason(err) != "retained" {
		t.Errorf("retained: %v", err)
	}
	// None of it counted.
	if st := s.c.Snapshot(s.now); st.Done != 0 || st.Flagged != 0 {
		t.Errorf("snapshot %+v", st)
	}
}

// TestFlaggedScanNeverRaisesCompliance is the property: over many random nights,
// adding one scan that ends up flagged never raises the night's compliance.
func TestFlaggedScanNeverRaisesCompliance(t *testing.T) {
	loc := mustLoc(t, "Asia/Almaty")
	rng := rand.New(rand.NewPCG(1, 2))
	nights := 300
	if testing.Short() {
		nights = 60
	}
	type msg struct {
		at      time.Time
		topic   string
		payload string
	}
	badges := []string{"", "aigul", "bota", "card"}
	randomScan := func(day time.Time, i int) msg {
		at := day.Add(time.Duration(rng.Int64N(int64(10 * time.Hour)))) // 21:00 .. 07:00
		cp := fmt.Sprintf("cp-%d", 1+rng.IntN(4))
		switch rng.IntN(8) {
		case 0:
			return msg{at, "zigbee2mqtt/cp-3-button", `{"action":"single"}`}
		case 1:
			return msg{at, "tele/cp-4-reader/SENSOR", fmt.Sprintf(`{"PN532":{"UID":"%08X"}}`, rng.IntN(3))}
		}
		f := fmt.Sprintf(`"n":%d`, i)
		if b := badges[rng.IntN(len(badges))]; b != "" {
			f += fmt.Sprintf(`,"badge":%q`, b)
		}
		if rng.IntN(4) == 0 {
			f += fmt.Sprintf(`,"tag":"04A%05X"`, rng.IntN(5)) // some are other checkpoints' tags
		}
		if rng.IntN(5) == 0 {
			skew := time.Duration(rng.Int64N(int64(10*time.Minute))) - 5*time.Minute
			f += fmt.Sprintf(`,"ts":%d`, at.Add(skew).Unix())
		}
		return msg{at, "saqshy/c1/round/" + cp + "/scan", "{" + f + "}"}
	}
	run := func(day time.Time, msgs []msg, extra int) (float64, string) {
		s := newSim(t, plausibleCentre(t), "", day.Add(-time.Hour))
		s.step = 5 * time.Minute
		reason := ""
		for i, m := range msgs {
			s.until(m.at)
			evs, err := s.c.Message(telemetry.Message{Topic: m.topic, Payload: []byte(m.payload), Received: s.now}, true)
			if err != nil {
				t.Fatal(err)
			}
			s.points = append(s.points, evs...)
			if i == extra {
				reason = tag(evs[len(evs)-1], "reason")
			}
		}
		s.until(msgs[len(msgs)-1].at.Add(12 * time.Hour))
		return s.night()["compliance"].(float64), reason
	}
	checked := 0
	for n := range nights {
		day := at(loc, 2026, 1, 10, 21, 0).AddDate(0, 0, n%30)
		var msgs []msg
		// A mostly diligent night: each checkpoint near each slot, plus noise.
		for h := 0; h < 8; h += 2 {
			for cp := 1; cp <= 4; cp++ {
				if rng.IntN(6) == 0 {
					continue
				}
				at := day.Add(time.Hour + time.Duration(h)*time.Hour + time.Duration(rng.IntN(110))*time.Minute)
				msgs = append(msgs, msg{at, fmt.Sprintf("saqshy/c1/round/cp-%d/scan", cp), fmt.Sprintf(`{"n":%d,"badge":"aigul"}`, len(msgs))})
			}
		}
		for range rng.IntN(6) {
			msgs = append(msgs, randomScan(day, len(msgs)))
		}
		sortMsgs := func(ms []msg) { slices.SortStableFunc(ms, func(a, b msg) int { return a.at.Compare(b.at) }) }
		sortMsgs(msgs)
		before, _ := run(day, msgs, -1)
		add := randomScan(day, 1000+n)
		with := append(slices.Clone(msgs), add)
		sortMsgs(with)
		idx := slices.IndexFunc(with, func(m msg) bool { return m == add })
		after, reason := run(day, with, idx)
		if reason == "" {
			continue // the added scan was plausible: it may count
		}
		checked++
		if after > before {
			t.Fatalf("night %d: adding a scan flagged %q raised compliance %.4f -> %.4f\nscans %v\nadded %v", n, reason, before, after, msgs, add)
		}
	}
	if checked < nights/5 {
		t.Fatalf("only %d of %d nights had a flagged added scan", checked, nights)
	}
	t.Logf("%d nights with a flagged scan added; compliance never rose", checked)
}
