package readings

import (
	"strings"
	"sync"

	"github.com/saqshy/saqshy/gateway/decode"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// declaredUnits remembers what ESPHome nodes declare in their Home Assistant
// discovery messages (on by default in ESPHome's MQTT component): which state topics
// carry a temperature in °F. ESPHome's state payload is a bare number, so the unit
// comes only from there. Safe for concurrent use.
type declaredUnits struct {
	mu         sync.Mutex
	fahrenheit map[string]bool // by state topic
}

// discoveryFilters are the subscriptions for ESPHome's discovery messages:
// homeassistant/sensor/<node>/<object>/config.
var discoveryFilters = []string{"homeassistant/sensor/+/+/config"}

// isDiscovery reports whether topic is a Home Assistant discovery message.
func isDiscovery(topic string) bool {
	return strings.HasPrefix(topic, "homeassistant/") && strings.HasSuffix(topic, "/config")
}

// learn reads a discovery message. An empty payload (an entity removed) names no
// state topic: what was learnt of it stays until a new config replaces it.
func (u *declaredUnits) learn(topic string, payload []byte) error {
	d, err := decode.ParseDiscovery(topic, payload)
	if err != nil {
		return err
	}
	if d.DeviceClass != "temperature" {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.fahrenheit == nil {
		u.fahrenheit = map[string]bool{}
	}
	if d.Unit == "°F" || d.Unit == "F" || d.Unit == "℉" {
		u.fahrenheit[d.StateTopic] = true
	} else {
		delete(u.fahrenheit, d.StateTopic)
	}
	return nil
}

// apply converts the temperatures of samples decoded from topic to °C if the device
// declared that topic in °F. It reports whether it converted.
func (u *declaredUnits) apply(topic string, samples []telemetry.Sample) bool {
	u.mu.Lock()
	f := u.fahrenheit[topic]
	u.mu.Unlock()
	if !f || decode.ESPHomeFahrenheitByName(topic) {
		return false
	}
	for i := range samples {
		for j := range samples[i].Values {
			if v := &samples[i].Values[j]; v.Metric == telemetry.Temperature {
				v.V = (v.V - 32) * 5 / 9
			}
		}
	}
	return true
}
