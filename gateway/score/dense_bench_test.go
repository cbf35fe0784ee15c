package score

import (
	"testing"
	"time"
)

// BenchmarkTickChattySensor: a medicine fridge registered at 5 min that reports
// every second, out of band, all day (a misconfigured or chatty device, or a
// redelivered backlog): one minute's tick (the live 24 h and today) over its
// 86,400 readings. The out-of-band hold once looked at every later reading within
// the hold limit for each reading — 330 of them here, a quarter of the gateway's CPU in
// the drain benchmark; it is linear now.
func BenchmarkTickChattySensor(b *testing.B) {
	fridge := Sensor{ID: "fridge", Zone: "mf", ZoneKind: "med-fridge", Interval: 5 * time.Minute}
	c, err := New(Options{Centre: "c1", Location: almaty, Sensors: []Sensor{fridge}})
	if err != nil {
		b.Fatal(err)
	}
	feed(c, "fridge", at(0, 0, 0), at(1, 0, 0), time.Second, constant(9))
	now := at(1, 0, 0)
	c.Tick(now, true)
	b.ResetTimer()
	for range b.N {
		now = now.Add(time.Minute)
		c.Tick(now, true)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tick")
}
