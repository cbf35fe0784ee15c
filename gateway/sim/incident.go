package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/saqshy/saqshy/gateway/config"
)

// Incident makes one simulated device warm up now and then — a chiller whose door
// was left open — so that a newcomer running the demo sees an alert fire, show on
// the status page (with its Acknowledge button) and resolve when the temperature
// comes back.
type Incident struct {
	Device *Device
	// First is when the first incident begins; then one every Every, each lasting
	// Warm, the temperature at Peak (± 0.2 °C).
	First       time.Time
	Every, Warm time.Duration
	Peak        float64
	// Above and Hold are the demo's limit on the device's zone: above Above for Hold
	// is a warning.
	Above float64
	Hold  time.Duration
}

// AddIncident makes the device of zone warm to above+2 °C for warm every every,
// the first time at the next whole minute after now, and gives the zone a limit
// (a config override: it replaces the zone kind's temperature defaults) of above
// for hold, short enough to fire within the incident. Call it before the config is
// validated. It fails when no device is in zone.
func AddIncident(c *Centre, zone string, now time.Time, every, warm time.Duration, above float64, hold time.Duration) (*Incident, error) {
	var dev *Device
	for _, d := range c.Devices {
		if d.Sensor.Zone == zone {
			dev = d
			break
		}
	}
	if dev == nil {
		return nil, fmt.Errorf("sim: no device in zone %q", zone)
	}
	in := &Incident{Device: dev, First: now.Truncate(time.Minute).Add(time.Minute), Every: every, Warm: warm,
		Peak: above + 2, Above: above, Hold: hold}
	dev.incident = in
	lim := above
	c.Config.Alerts.Limits = append(c.Config.Alerts.Limits, config.AlertLimit{
		Zone: zone, Metric: "temperature", Above: &lim, For: config.Duration(hold), Severity: "warning"})
	return in, nil
}

// Active reports whether an incident is under way at t.
func (in *Incident) Active(t time.Time) bool {
	if t.Before(in.First) || in.Every <= 0 {
		return false
	}
	return t.Sub(in.First)%in.Every < in.Warm
}

// Next returns when the next incident begins at or after t.
func (in *Incident) Next(t time.Time) time.Time {
	if !t.After(in.First) || in.Every <= 0 {
		return in.First
	}
	k := (t.Sub(in.First) + in.Every - 1) / in.Every
	return in.First.Add(k * in.Every)
}

// temperature returns the warm reading at t: the peak with a small wobble.
func (in *Incident) temperature(t time.Time) float64 {
	wobble := 0.2 * math.Sin(float64(t.Unix())/7)
	return math.Round((in.Peak+wobble)*100) / 100
}
