package decode

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/internal/corpus"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the want lines of testdata/corpus/*.txt from the current output")

// foreignSources are the corpus's sources read outside this package, by the test
// that owns each; TestCorpus counts them and leaves their want lines alone.
var foreignSources = map[string]string{
	"frigate":       "gateway/camera TestFrigateCorpus",
	"rounds-button": "gateway/rounds TestRoundsCorpus",
	"rounds-rfid":   "gateway/rounds TestRoundsCorpus",
}

// TestCorpus decodes every capture of testdata/corpus/*.txt and compares the result
// with its want lines. A file holds blocks separated by blank lines:
//
//	### name
//	source: <decoder source, or one of foreignSources>
//	topic: <topic>
//	ref: <where the capture comes from: a URL or repo@commit:path#line>
//	payload: <the payload, on one line>
//	want: sample <device> key=<key> time=<RFC 3339 or -> <metric>=<value> ...
//	want: bad <reason>            (a bad field, named; the good ones are kept)
//	want: reject <reason>         (the message as a whole)
//	want: ignored
//	want: discovery ...           (source homeassistant: a parsed discovery message)
//	want: component ...           (source shelly-rpc: a Shelly RPC answer's BLU sensor)
//	quantity: <comp>=<metric>     (source shelly: a bthomesensor's quantity, as configured or learnt)
//
// go test -run TestCorpus -update-corpus ./gateway/decode rewrites the want lines;
// review the diff, since it is the expectation.
func TestCorpus(t *testing.T) {
	files, err := corpus.Files("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	perSource := map[string]int{}
	for _, f := range files {
		caps, err := corpus.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		total += len(caps)
		changed := false
		for i := range caps {
			c := &caps[i]
			perSource[c.Source]++
			if c.Ref == "" {
				t.Errorf("%s:%d %s: no ref: every capture names where it comes from", f, c.Line, c.Name)
			}
			if len(c.Want) == 0 {
				t.Errorf("%s:%d %s: no want lines", f, c.Line, c.Name)
			}
			if _, ok := foreignSources[c.Source]; ok {
				continue
			}
			var got []string
			switch c.Source {
			case "homeassistant":
				got = renderDiscovery(ParseDiscovery(c.Topic, []byte(c.Payload)))
			case "shelly-rpc":
				got = renderRPCReply(ParseShellyRPCReply([]byte(c.Payload)))
			default:
				dec, err := New(c.Source, centre)
				if len(c.Quantity) > 0 {
					q, qerr := parseQuantities(c.Topic, c.Quantity)
					if qerr != nil {
						t.Errorf("%s:%d: %v", f, c.Line, qerr)
						continue
					}
					dec, err = NewShelly(centre, q)
				}
				if err != nil {
					t.Errorf("%s:%d: %v", f, c.Line, err)
					continue
				}
				samples, derr := dec(c.Topic, []byte(c.Payload))
				checkInvariants(t, c.Source, c.Topic, []byte(c.Payload), samples, derr)
				got = renderResult(samples, derr)
			}
			if *updateCorpus {
				if strings.Join(got, "\n") != strings.Join(c.Want, "\n") {
					c.Want, changed = got, true
				}
				continue
			}
			if strings.Join(got, "\n") != strings.Join(c.Want, "\n") {
				t.Errorf("%s:%d %s:\n got: %s\nwant: %s", f, c.Line, c.Name,
					strings.Join(got, "\n      "), strings.Join(c.Want, "\n      "))
			}
		}
		if changed {
			if err := corpus.Write(f, caps); err != nil {
				t.Fatal(err)
			}
		}
	}
	if total < 150 {
		t.Errorf("the corpus holds %d captures, want at least 150", total)
	}
	t.Logf("%d captures: %v", total, perSource)
	for src, owner := range foreignSources {
		if perSource[src] == 0 {
			t.Errorf("no capture of source %s (read by %s)", src, owner)
		}
	}
}

// renderDiscovery writes a parsed discovery message as want lines.
func renderDiscovery(d Discovery, err error) []string {
	if err != nil {
		return []string{"reject " + telemetry.Reason(err)}
	}
	return []string{fmt.Sprintf("discovery %s state_topic=%q field=%q class=%q unit=%q celsius=%t model=%q",
		d.Component, d.StateTopic, d.Field(), d.DeviceClass, d.Unit, d.Celsius(), d.Model)}
}

// renderRPCReply writes a parsed Shelly RPC answer as want lines.
func renderRPCReply(r ShellyRPCReply, err error) []string {
	if err != nil {
		return []string{"reject " + telemetry.Reason(err)}
	}
	out := []string{fmt.Sprintf("reply id=%d src=%s next=%d", r.ID, r.Src, r.Next)}
	for _, c := range r.Components {
		m, ok := c.Metric()
		metric := "unknown"
		if ok {
			metric = m.String()
		}
		out = append(out, fmt.Sprintf("component %s obj_id=%d idx=%d addr=%s metric=%s", c.Key, c.ObjID, c.Idx, c.Addr, metric))
	}
	return out
}

// staticQuantities is a fixed BTHomeQuantities by device and component.
type staticQuantities map[[2]string]telemetry.Metric

func (q staticQuantities) BTHomeQuantity(device, comp string) (telemetry.Metric, bool) {
	m, ok := q[[2]string{device, comp}]
	return m, ok
}

// parseQuantities reads a capture's quantity lines ("bthomesensor:200=battery_pct")
// for the device of topic (its Shelly prefix).
func parseQuantities(topic string, lines []string) (staticQuantities, error) {
	dev := topic
	for _, suffix := range []string{"/events/rpc", "/status/"} {
		if i := strings.LastIndex(dev, suffix); i >= 0 {
			dev = dev[:i]
		}
	}
	q := staticQuantities{}
	for _, l := range lines {
		comp, name, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("quantity %q: want <component>=<metric>", l)
		}
		var m telemetry.Metric
		for x := telemetry.Metric(1); x.Valid(); x++ {
			if x.String() == name {
				m = x
			}
		}
		if m == 0 {
			return nil, fmt.Errorf("quantity %q: unknown metric %q", l, name)
		}
		q[[2]string{dev, comp}] = m
	}
	return q, nil
}

// renderResult writes a decode result as want lines.
func renderResult(samples []telemetry.Sample, err error) []string {
	var out []string
	p := telemetry.AsPartial(err)
	if err != nil && p == nil {
		if errors.Is(err, telemetry.ErrIgnored) {
			return []string{"ignored"}
		}
		return []string{"reject " + telemetry.Reason(err)}
	}
	for _, s := range samples {
		var b strings.Builder
		key := s.Key
		if key == "" {
			key = "-"
		}
		ts := "-"
		if !s.Time.IsZero() {
			ts = s.Time.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&b, "sample %s key=%s time=%s", s.Device, key, ts)
		for _, v := range s.Values {
			fmt.Fprintf(&b, " %s=%s", v.Metric, strconv.FormatFloat(v.V, 'f', -1, 64))
		}
		out = append(out, b.String())
	}
	if p != nil {
		for _, e := range p.Bad {
			out = append(out, "bad "+e.Reason)
		}
	}
	return out
}
