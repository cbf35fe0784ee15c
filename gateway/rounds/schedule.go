package rounds

import (
	"fmt"
	"time"
)

// schedule places the night-round window in the centre's time zone.
type schedule struct {
	loc        *time.Location
	start, end time.Duration // offsets from local midnight; end <= start crosses midnight
	grace      time.Duration
}

func newSchedule(loc *time.Location, start, end, grace time.Duration) (schedule, error) {
	if loc == nil {
		return schedule{}, fmt.Errorf("rounds: no time zone")
	}
	if start < 0 || start >= 24*time.Hour || end < 0 || end > 24*time.Hour || start == end%(24*time.Hour) {
		return schedule{}, fmt.Errorf("rounds: bad window %s-%s", start, end)
	}
	return schedule{loc: loc, start: start, end: end, grace: grace}, nil
}

// clock builds the wall-clock time off after local midnight of y-m-d. A wall time in a
// DST gap is normalised by time.Date (02:30 on a spring-forward night is 03:30).
func (s schedule) clock(y int, m time.Month, d int, off time.Duration) time.Time {
	h := int(off / time.Hour)
	mm := int(off % time.Hour / time.Minute)
	return time.Date(y, m, d, h, mm, 0, 0, s.loc)
}

// window returns the window of the night whose window starts on local date y-m-d.
func (s schedule) window(y int, m time.Month, d int) (start, end time.Time) {
	start = s.clock(y, m, d, s.start)
	if s.end <= s.start {
		end = s.clock(y, m, d+1, s.end)
	} else {
		end = s.clock(y, m, d, s.end)
	}
	return start, end
}

// nightAt returns the night whose window, extended by the grace, contains t.
func (s schedule) nightAt(t time.Time) (date string, start, end time.Time, ok bool) {
	lt := t.In(s.loc)
	for _, back := range []int{0, -1, -2} {
		y, m, d := lt.Date()
		st, en := s.window(y, m, d+back)
		if !t.Before(st) && t.Before(en.Add(s.grace)) {
			return st.Format(time.DateOnly), st, en, true
		}
	}
	return "", time.Time{}, time.Time{}, false
}

// nextStart returns the first window start after t.
func (s schedule) nextStart(t time.Time) time.Time {
	lt := t.In(s.loc)
	y, m, d := lt.Date()
	for i := 0; i < 3; i++ {
		st, _ := s.window(y, m, d+i)
		if st.After(t) {
			return st
		}
	}
	st, _ := s.window(y, m, d+3)
	return st
}

// slotTimes splits [start, end) into slots of every elapsed interval; the last slot
// is shorter when the interval does not divide the window. Intervals are elapsed time
// from the window's start, so on a DST night the slots keep their length and the
// window has one slot more or less of wall-clock hours.
func slotTimes(start, end time.Time, every time.Duration) [][2]time.Time {
	if every <= 0 {
		every = end.Sub(start)
	}
	var out [][2]time.Time
	for s := start; s.Before(end); s = s.Add(every) {
		e := s.Add(every)
		if e.After(end) {
			e = end
		}
		out = append(out, [2]time.Time{s, e})
	}
	return out
}
