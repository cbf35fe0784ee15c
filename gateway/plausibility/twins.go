package plausibility

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Pair is the comparison of two sensors' last day over their common slots.
type Pair struct {
	// Judged is false when they share too few slots or one of them barely varies
	// (a flat sensor is the flat rule's business, not this one's).
	Judged bool
	Twin   bool   // they track each other exactly
	Reason string // for people, set when Twin
	// The measures: common hours (with 3 or more common slots), the deviation of
	// each one's hourly means, of their difference, the mean difference (B − A)
	// and the correlation.
	Hours              int
	StdA, StdB, StdDif float64
	Offset, Corr       float64
}

// Twins compares the hourly means of a and b over the day that ends at now, using
// only the 10-minute slots where both have readings. Both must have been fed with
// the same Params (p is used for the thresholds). Hourly means average the sensors'
// noise away while keeping what honest rooms do not share (drift, sun, people).
func Twins(a, b *Sensor, now time.Time, p Params) Pair {
	end := now.Unix() / slotSec
	var ha, hb [24]float64
	var hn [24]int
	for i := range a.ring {
		ra, rb := &a.ring[i], &b.ring[i]
		k := int64(ra.idx) - 1
		if ra.idx == 0 || ra.idx != rb.idx || ra.n == 0 || rb.n == 0 || k > end || k+Slots <= end {
			continue
		}
		h := (end - k) / 6
		ha[h] += float64(ra.sum) / float64(ra.n) / 100
		hb[h] += float64(rb.sum) / float64(rb.n) / 100
		hn[h]++
	}
	var n, sa, sb, saa, sbb, sab float64
	for h := range hn {
		if hn[h] < 3 {
			continue
		}
		x, y := ha[h]/float64(hn[h]), hb[h]/float64(hn[h])
		n++
		sa += x
		sb += y
		saa += x * x
		sbb += y * y
		sab += x * y
	}
	pr := Pair{Hours: int(n)}
	if int(n) < p.TwinMinHours {
		return pr
	}
	ma, mb := sa/n, sb/n
	va := max(saa/n-ma*ma, 0)
	vb := max(sbb/n-mb*mb, 0)
	cov := sab/n - ma*mb
	vd := max(va+vb-2*cov, 0)
	pr.StdA, pr.StdB, pr.StdDif = math.Sqrt(va), math.Sqrt(vb), math.Sqrt(vd)
	pr.Offset = mb - ma
	if va > 0 && vb > 0 {
		pr.Corr = cov / math.Sqrt(va*vb)
	}
	least := min(pr.StdA, pr.StdB)
	if least < p.TwinMinStdC {
		return pr
	}
	pr.Judged = true
	if pr.StdDif <= p.TwinDiffC && pr.StdDif <= p.TwinRatio*least {
		pr.Twin = true
		pr.Reason = fmt.Sprintf("tracks another sensor exactly: over %d hours the difference of their hourly means varies by %.3f °C while each sensor varies by %.2f °C or more (offset %+.2f °C)",
			int(n), pr.StdDif, least, pr.Offset)
	}
	return pr
}

// Named is a sensor with the ids [FindTwins] reports; Kind (its zone's kind) is
// for the reasons of [TwinReasons] and [JudgeDay].
type Named struct {
	ID, Zone string
	S        *Sensor
	Kind     string
}

// TwinPair is a pair of sensors in different zones that track each other.
type TwinPair struct {
	A, B Named
	Pair Pair
}

// FindTwins compares every pair of sensors in different zones (n²/2 comparisons of
// 144 slots: 300 sensors make ~45,000 pairs) and returns the twins, in input order.
func FindTwins(list []Named, now time.Time, p Params) []TwinPair {
	var out []TwinPair
	for i := range list {
		for j := i + 1; j < len(list); j++ {
			if list[i].Zone == list[j].Zone {
				continue
			}
			if pr := Twins(list[i].S, list[j].S, now, p); pr.Twin {
				out = append(out, TwinPair{A: list[i], B: list[j], Pair: pr})
			}
		}
	}
	return out
}

// TwinOf is the other sensor of a twin pair a sensor is in, and why.
type TwinOf struct{ ID, Reason string }

// TwinReasons looks for twins among list within each class (a fridge and a room
// never track) and returns, for each sensor in a pair, the first other sensor it
// tracks.
func TwinReasons(list []Named, now time.Time, p Params) map[string]TwinOf {
	out := map[string]TwinOf{}
	for _, class := range []Class{Cycling, Room} {
		var same []Named
		for _, n := range list {
			if n.S.Class() == class {
				same = append(same, n)
			}
		}
		for _, tp := range FindTwins(same, now, p) {
			for _, ab := range [2][2]Named{{tp.A, tp.B}, {tp.B, tp.A}} {
				if _, ok := out[ab[0].ID]; !ok {
					out[ab[0].ID] = TwinOf{ID: ab[1].ID, Reason: fmt.Sprintf("tracks sensor %s (zone %s): %s", ab[1].ID, ab[1].Zone, tp.Pair.Reason)}
				}
			}
		}
	}
	return out
}

// Reason is the reason a sensor is held implausible for, from its rules' reasons
// (its own rule's, then the twin's): "sensor ID (kind): r1; r2".
func Reason(n Named, reasons []string) string {
	return fmt.Sprintf("sensor %s (%s): %s", n.ID, n.Kind, strings.Join(reasons, "; "))
}

// JudgeDay judges the sensors' day that ends at now, all at once (the central
// rating's question; the gateway's check judges as it goes): each sensor's own
// rule and the twins. It returns the reason of each implausible sensor, by id.
func JudgeDay(list []Named, now time.Time, p Params) map[string]string {
	twins := TwinReasons(list, now, p)
	out := map[string]string{}
	for _, n := range list {
		var reasons []string
		if v := n.S.Verdict(now); v.Implausible {
			reasons = append(reasons, v.Reason)
		}
		if tw, ok := twins[n.ID]; ok {
			reasons = append(reasons, tw.Reason)
		}
		if len(reasons) > 0 {
			out[n.ID] = Reason(n, reasons)
		}
	}
	return out
}
