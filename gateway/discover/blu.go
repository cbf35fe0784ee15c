package discover

import (
	"slices"
	"strings"
	"sync"

	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Shelly BLU sensors (bthomesensor:N of a Shelly gen2+ device) say only a value.
// discover asks each Shelly device it hears with one for its components
// (Shelly.GetComponents), answered on saqshy/bthome/<prefix>/rpc as the gateway's
// own questions are (the broker's ACL lets the device write there), and reads the
// answers to either.

// bluQuantities is what the Shelly devices said their BLU sensors measure. Safe for
// concurrent use.
type bluQuantities struct {
	mu    sync.Mutex
	m     map[[2]string]telemetry.Metric
	asked map[string]bool // devices asked (or to ask: false)
}

// BTHomeQuantity implements decode.BTHomeQuantities.
func (q *bluQuantities) BTHomeQuantity(device, comp string) (telemetry.Metric, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.m[[2]string{device, comp}]
	return m, ok
}

func (q *bluQuantities) learn(device string, payload []byte) {
	r, err := decode.ParseShellyRPCReply(payload)
	if err != nil {
		return // an error answer, or a request: the sensor stays unknown
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range r.Components {
		if m, ok := c.Metric(); ok {
			q.m[[2]string{device, c.Key}] = m
		}
	}
}

// isAsked reports whether device is (to be) asked.
func (q *bluQuantities) isAsked(device string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.asked[device]
	return ok
}

// toAsk returns the devices to ask, once each.
func (q *bluQuantities) toAsk() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for d, asked := range q.asked {
		if !asked {
			out = append(out, d)
			q.asked[d] = true
		}
	}
	slices.Sort(out)
	return out
}

// unknownBLU records a BLU sensor heard with a value of unknown quantity, marks its
// device to be asked, and returns the device. c.mu is held.
func (c *Collector) unknownBLU(topic string, payload []byte) string {
	dev, comp := topic, ""
	if i := strings.LastIndex(topic, "/status/"); i >= 0 {
		dev, comp = topic[:i], topic[i+len("/status/"):]
	} else if p, ok := strings.CutSuffix(topic, "/events/rpc"); ok {
		dev = p
		for k := range bthomeKeys(payload) {
			c.unknownComp(dev, k)
		}
	}
	if comp != "" {
		c.unknownComp(dev, comp)
	}
	c.bthome.mu.Lock()
	if _, ok := c.bthome.asked[dev]; !ok {
		c.bthome.asked[dev] = false
	}
	c.bthome.mu.Unlock()
	return dev
}

func (c *Collector) unknownComp(dev, comp string) {
	if !decode.IsBTHomeSensor(comp) {
		return
	}
	if _, ok := c.bthome.BTHomeQuantity(dev, comp); ok {
		return
	}
	d := c.device(Shelly, dev)
	if !slices.Contains(d.UnknownBLU, comp) {
		d.UnknownBLU = append(d.UnknownBLU, comp)
		slices.Sort(d.UnknownBLU)
	}
}

// bthomeKeys yields the bthomesensor keys named in a NotifyStatus payload.
func bthomeKeys(payload []byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		s := string(payload)
		for {
			i := strings.Index(s, `"bthomesensor:`)
			if i < 0 {
				return
			}
			s = s[i+1:]
			j := strings.IndexByte(s, '"')
			if j < 0 {
				return
			}
			if !yield(s[:j]) {
				return
			}
			s = s[j:]
		}
	}
}

// QuantityPlaceholder stands for a BLU sensor's unknown quantity in the printed
// config: check-config rejects it until it is replaced.
const QuantityPlaceholder = "QUANTITY"
