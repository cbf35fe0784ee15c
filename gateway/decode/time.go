package decode

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// parseISO parses an ISO 8601 date-time "2006-01-02T15:04:05[.fff][Z|±hh:mm|±hhmm]"
// and returns it in UTC. A time without a UTC offset is read in loc, or rejected if
// loc is nil. It is written out by hand because time.Parse needs a string (an
// allocation per message on the hot path) and is lenient in ways payloads need not be.
func parseISO(b []byte, loc *time.Location) (time.Time, error) {
	bad := func(what string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("time %q: %s", clip(b), what)
	}
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' ||
		(b[10] != 'T' && b[10] != 't' && b[10] != ' ') {
		return bad("want 2006-01-02T15:04:05")
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return bad("want 2006-01-02T15:04:05")
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return bad("no such date or time")
	}
	rest, nsec := b[19:], 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return bad("empty fraction of a second")
		}
		scale := 100_000_000
		for _, c := range rest[1:min(n, 10)] {
			nsec += int(c-'0') * scale
			scale /= 10
		}
		rest = rest[n:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
		if loc == nil {
			return bad("no UTC offset")
		}
		return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc).UTC(), nil
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case (len(rest) == 6 && rest[3] == ':') || len(rest) == 5:
		h, okh := digits(rest[1:3])
		m, okm := digits(rest[len(rest)-2:])
		if (rest[0] != '+' && rest[0] != '-') || !okh || !okm || h > 23 || m > 59 {
			return bad("bad UTC offset")
		}
		offset = h*3600 + m*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return bad("bad UTC offset")
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

// digits parses a short run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// daysIn returns the number of days of month in year (Gregorian).
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// epoch converts a Unix time in seconds (perSecond 1) or milliseconds (perSecond
// 1000) to UTC, rounded to the microsecond (a float64 holds no more for today's
// times). Times outside the accepted window are an error (bad_time for the caller).
func epoch(x, perSecond float64) (time.Time, error) {
	sec := x / perSecond
	if !(sec >= minUnix && sec < maxUnix) { // also false for NaN
		unit := "s"
		if perSecond != 1 {
			unit = "ms"
		}
		format := byte('f')
		if math.Abs(x) >= 1e15 {
			format = 'g'
		}
		return time.Time{}, fmt.Errorf("%s %s is not a Unix time in [2000, 2100)",
			strconv.FormatFloat(x, format, -1, 64), unit)
	}
	whole := math.Floor(sec)
	us := math.Round((x - whole*perSecond) * 1e6 / perSecond)
	return time.Unix(int64(whole), int64(us)*1000).UTC(), nil
}

// timeValue decodes a JSON time field: an ISO 8601 string (read in loc if it has no
// offset; loc nil requires one) or a Unix time number in seconds or milliseconds as
// unit says. ok is false for null.
func timeValue(name string, v []byte, loc *time.Location, unit epochUnit) (t time.Time, ok bool, err error) {
	switch kindOf(v) {
	case kindNull:
		return time.Time{}, false, nil
	case kindString:
		s, _, err := str(name, v)
		if err != nil {
			return time.Time{}, false, err
		}
		t, err := parseISO(s, loc)
		if err != nil {
			return time.Time{}, false, badTime(fmt.Errorf("%s: %w", name, err))
		}
		return t, true, nil
	case kindNumber:
		x, _, err := number(name, v)
		if err != nil {
			return time.Time{}, false, err
		}
		per := 1.0
		switch unit {
		case millis:
			per = 1000
		case autoUnit:
			if x >= 1e11 {
				per = 1000
			}
		}
		t, err := epoch(x, per)
		if err != nil {
			return time.Time{}, false, badTime(fmt.Errorf("%s: %w", name, err))
		}
		return t, true, nil
	}
	return time.Time{}, false, badValue("%s: want a time string or number, got %s", name, kindName(kindOf(v)))
}

// setTime decodes the time field name (see timeValue) into *t; null leaves *t as it is.
func setTime(t *time.Time, name string, v []byte, loc *time.Location, unit epochUnit) error {
	ts, ok, err := timeValue(name, v, loc, unit)
	if err != nil {
		return err
	}
	if ok {
		*t = ts
	}
	return nil
}

// epochUnit says how timeValue reads a number.
type epochUnit uint8

const (
	seconds  epochUnit = iota // Unix seconds, maybe fractional
	millis                    // Unix milliseconds
	autoUnit                  // seconds below 1e11, milliseconds from 1e11 on
)
