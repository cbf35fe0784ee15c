package decode

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the want lines of testdata/corpus/*.txt from the current output")

// capture is one real message of the corpus: what a device or gateway published, as
// shown in its project's documentation, test suite or a user's issue thread (ref),
// and what the decoder must make of it (want).
type capture struct {
	name, source, topic, ref, payload string
	// quantity are the capture's "quantity: <component>=<metric>" lines: what the
	// Shelly device's components (or the sensor's quantity:) say its BLU sensors are.
	quantity []string
	want     []string
	line     int
}

// TestCorpus decodes every capture of testdata/corpus/*.txt and compares the result
// with its want lines. A file holds blocks separated by blank lines:
//
//	### name
//	source: <decoder source>
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
	files, err := filepath.Glob("testdata/corpus/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	total := 0
	perSource := map[string]int{}
	for _, f := range files {
		caps, err := readCorpus(f)
		if err != nil {
			t.Fatal(err)
		}
		total += len(caps)
		changed := false
		for i := range caps {
			c := &caps[i]
			perSource[c.source]++
			if c.ref == "" {
				t.Errorf("%s:%d %s: no ref: every capture names where it comes from", f, c.line, c.name)
			}
			var got []string
			switch c.source {
			case "homeassistant":
				got = renderDiscovery(ParseDiscovery(c.topic, []byte(c.payload)))
			case "shelly-rpc":
				got = renderRPCReply(ParseShellyRPCReply([]byte(c.payload)))
			default:
				dec, err := New(c.source, centre)
				if len(c.quantity) > 0 {
					q, qerr := parseQuantities(c.topic, c.quantity)
					if qerr != nil {
						t.Errorf("%s:%d: %v", f, c.line, qerr)
						continue
					}
					dec, err = NewShelly(centre, q)
				}
				if err != nil {
					t.Errorf("%s:%d: %v", f, c.line, err)
					continue
				}
				samples, derr := dec(c.topic, []byte(c.payload))
				checkInvariants(t, c.source, c.topic, []byte(c.payload), samples, derr)
				got = renderResult(samples, derr)
			}
			if *updateCorpus {
				if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
					c.want, changed = got, true
				}
				continue
			}
			if len(c.want) == 0 {
				t.Errorf("%s:%d %s: no want lines", f, c.line, c.name)
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("%s:%d %s:\n got: %s\nwant: %s", f, c.line, c.name,
					strings.Join(got, "\n      "), strings.Join(c.want, "\n      "))
			}
		}
		if changed {
			if err := writeCorpus(f, caps); err != nil {
				t.Fatal(err)
			}
		}
	}
	if total < 150 {
		t.Errorf("the corpus holds %d captures, want at least 150", total)
	}
	t.Logf("%d captures: %v", total, perSource)
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

func readCorpus(path string) ([]capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		caps []capture
		cur  *capture
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### "):
			caps = append(caps, capture{name: strings.TrimPrefix(line, "### "), line: n})
			cur = &caps[len(caps)-1]
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case cur == nil:
			return nil, fmt.Errorf("%s:%d: a field before the first ### name", path, n)
		default:
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				k, v, ok = strings.Cut(line, ":")
			}
			if !ok {
				return nil, fmt.Errorf("%s:%d: want <field>: <value>", path, n)
			}
			switch k {
			case "source":
				cur.source = v
			case "topic":
				cur.topic = v
			case "ref":
				cur.ref = v
			case "payload":
				cur.payload = v
			case "want":
				cur.want = append(cur.want, v)
			case "quantity":
				cur.quantity = append(cur.quantity, v)
			default:
				return nil, fmt.Errorf("%s:%d: unknown field %q", path, n, k)
			}
		}
	}
	return caps, sc.Err()
}

// writeCorpus rewrites path with caps, keeping its header comment.
func writeCorpus(path string, caps []capture) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range strings.Split(string(old), "\n") {
		if !strings.HasPrefix(l, "#") || strings.HasPrefix(l, "### ") {
			break
		}
		b.WriteString(l + "\n")
	}
	for _, c := range caps {
		fmt.Fprintf(&b, "\n### %s\nsource: %s\ntopic: %s\nref: %s\npayload: %s\n", c.name, c.source, c.topic, c.ref, c.payload)
		for _, q := range c.quantity {
			fmt.Fprintf(&b, "quantity: %s\n", q)
		}
		for _, w := range c.want {
			fmt.Fprintf(&b, "want: %s\n", w)
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
