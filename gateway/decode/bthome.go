package decode

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/saqshy/saqshy/gateway/telemetry"
)

// Shelly BLU sensors (BLU H&T, Door/Window, Motion, ...) arrive through a Shelly
// gen2/gen3/gen4 device as BTHome components: one "bthomedevice:N" per BLU device
// and one "bthomesensor:N" per quantity it sends. A bthomesensor's status carries
// only {"id":N,"value":21.5,"last_updated_ts":...}; what the value is lies in the
// component's config, obj_id, the BTHome object id in decimal (69 = 0x45
// temperature, 46 = 0x2e humidity, 1 battery, ...). The value is already scaled
// by the Shelly device (21.5 °C, not 215).
//
// The config is not published on MQTT; it is asked with an RPC on
// <prefix>/rpc ({"id":1,"src":"saqshy/bthome/<prefix>","method":"Shelly.GetComponents",...})
// and answered on <src>/rpc, [ShellyReplyTopic]. [ShellyRPCRequest] builds the
// request, [ShellyReplyDevice] names the device a reply comes from and
// [ParseShellyRPCReply] reads the answer.

// ReasonUnknownQuantity is the reason of a Shelly bthomesensor value whose quantity
// is not known: neither configured (quantity:) nor learnt from the device's
// components. The value is counted and named, never guessed.
const ReasonUnknownQuantity = "unknown_quantity"

// BTHomeQuantities tells the quantity of a Shelly bthomesensor component. device
// is the topic prefix (Sample.Device), comp the component key ("bthomesensor:200").
// It must be safe for concurrent use.
type BTHomeQuantities interface {
	BTHomeQuantity(device, comp string) (telemetry.Metric, bool)
}

// BTHomeMetric returns the metric of a BTHome object id (decimal, as Shelly's
// obj_id) the gateway records, or ok false. The ids are those of the BTHome v2
// format (bthome.io/format): 0x01 battery %, 0x02 temperature 0.01 °C, 0x45
// temperature 0.1 °C, 0x03 humidity 0.01 %, 0x2e humidity 1 %, 0x0c voltage
// 0.001 V, 0x4a voltage 0.1 V. Shelly reports the scaled value.
func BTHomeMetric(objID int) (telemetry.Metric, bool) {
	switch objID {
	case 0x01:
		return telemetry.Battery, true
	case 0x02, 0x45:
		return telemetry.Temperature, true
	case 0x03, 0x2e:
		return telemetry.Humidity, true
	case 0x0c, 0x4a:
		return telemetry.Voltage, true
	}
	return 0, false
}

// IsBTHomeSensor reports whether comp is a Shelly bthomesensor component key,
// "bthomesensor:<id>".
func IsBTHomeSensor(comp string) bool {
	id, ok := strings.CutPrefix(comp, compBTHomeSensor+":")
	return ok && allDigits(id) && len(id) <= 5
}

// BTHomeComponent is one bthomesensor component as a Shelly device describes it.
type BTHomeComponent struct {
	Key   string // "bthomesensor:200"
	ObjID int    // BTHome object id, decimal
	Idx   int    // BTHome object index (a second temperature probe is idx 1)
	Addr  string // the BLU device's MAC address
	Name  string // the name given on the Shelly device, may be empty
	id    int    // the component id, from BTHomeSensor.GetConfig
}

// Metric returns the metric of c's object id; see [BTHomeMetric].
func (c BTHomeComponent) Metric() (telemetry.Metric, bool) { return BTHomeMetric(c.ObjID) }

// ShellyRPCReply is a Shelly device's answer to [ShellyRPCRequest].
type ShellyRPCReply struct {
	ID  int    // the request's id
	Src string // the Shelly device's own id ("shelly1minig3-ecda3bc252b0")
	// Components are the bthomesensor components of the answer.
	Components []BTHomeComponent
	// Next is the offset of the next page of Shelly.GetComponents, or 0 when this
	// was the last (or the answer was a BTHomeSensor.GetConfig).
	Next int
}

// shellyReplyPrefix starts the src of the RPC requests to Shelly devices: the src
// is shellyReplyPrefix+<device prefix>, and Shelly answers on <src>/rpc, so the
// reply's topic names the device (the broker's ACL lets the device write there).
const shellyReplyPrefix = "saqshy/bthome/"

// ShellyReplyTopic returns the topic the Shelly device with topic prefix answers
// [ShellyRPCRequest] on.
func ShellyReplyTopic(prefix string) string { return shellyReplyPrefix + prefix + "/rpc" }

// ShellyReplyDevice returns the device prefix a reply topic names, or ok false for
// any other topic.
func ShellyReplyDevice(topic string) (prefix string, ok bool) {
	rest, ok := strings.CutPrefix(topic, shellyReplyPrefix)
	if !ok {
		return "", false
	}
	prefix, ok = strings.CutSuffix(rest, "/rpc")
	return prefix, ok && prefix != ""
}

// ShellyRPCRequest returns the MQTT topic and payload asking the Shelly device with
// topic prefix to list its dynamic components with their config
// (Shelly.GetComponents, from offset), answering on [ShellyReplyTopic].
func ShellyRPCRequest(prefix string, id, offset int) (topic string, payload []byte) {
	payload = fmt.Appendf(nil, `{"id":%d,"src":%s,"method":"Shelly.GetComponents","params":{"offset":%d,"dynamic_only":true,"include":["config"]}}`,
		id, strconv.Quote(shellyReplyPrefix+prefix), offset)
	return prefix + "/rpc", payload
}

// ParseShellyRPCReply reads a Shelly RPC answer frame
// ({"id":1,"src":"...","dst":"...","result":{...}}): the result of
// Shelly.GetComponents ({"components":[{"key":"bthomesensor:200","config":{...}}],
// "offset":0,"total":5}) or of BTHomeSensor.GetConfig ({"id":200,"obj_id":69,...}).
// Components other than bthomesensor are skipped. An error frame
// ({"error":{"code":404,...}}) is an error naming the device's message.
func ParseShellyRPCReply(payload []byte) (ShellyRPCReply, error) {
	var r ShellyRPCReply
	if len(payload) > telemetry.MaxPayload {
		return r, reject(reasonTooLarge, fmt.Errorf("%d bytes, limit %d", len(payload), telemetry.MaxPayload))
	}
	if err := checkObject(payload); err != nil {
		return r, err
	}
	var result, rpcErr []byte
	err := eachMember(payload, func(k, v []byte) error {
		switch string(k) {
		case "id":
			x, ok, err := number("id", v)
			if err != nil {
				return err
			}
			if ok {
				r.ID = int(x)
			}
		case "src":
			s, ok, err := str("src", v)
			if err != nil {
				return err
			}
			if ok {
				r.Src = string(s)
			}
		case "result":
			result = v
		case "error":
			rpcErr = v
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	if rpcErr != nil && kindOf(rpcErr) != kindNull {
		return r, badValue("the device answered an error: %s", clip(rpcErr))
	}
	if kindOf(result) != kindObject {
		return r, badValue("result: want an object, got %s", kindName(kindOf(result)))
	}
	var (
		comps         []byte
		offset, total int
		single        BTHomeComponent
		isConfig      bool
	)
	err = eachMember(result, func(k, v []byte) error {
		switch string(k) {
		case "components":
			comps = v
		case "offset", "total":
			x, ok, err := number(string(k), v)
			if err != nil || !ok {
				return err
			}
			if string(k) == "offset" {
				offset = int(x)
			} else {
				total = int(x)
			}
		case "obj_id":
			isConfig = true
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	switch {
	case comps != nil:
		if kindOf(comps) != kindArray {
			return r, badValue("result.components: want an array, got %s", kindName(kindOf(comps)))
		}
		n := 0
		err = eachElement(comps, func(v []byte) error {
			n++
			c, ok, err := componentEntry(v)
			if ok {
				r.Components = append(r.Components, c)
			}
			return err
		})
		if err != nil {
			return r, err
		}
		if offset+n < total && n > 0 {
			r.Next = offset + n
		}
	case isConfig: // BTHomeSensor.GetConfig
		if err := bthomeConfig(result, &single); err != nil {
			return r, err
		}
		single.Key = compBTHomeSensor + ":" + strconv.Itoa(single.id)
		r.Components = append(r.Components, single)
	}
	return r, nil
}

// componentEntry reads one element of Shelly.GetComponents' components:
// {"key":"bthomesensor:200","status":{...},"config":{...}}. ok is false for other
// components.
func componentEntry(v []byte) (c BTHomeComponent, ok bool, err error) {
	if kindOf(v) != kindObject {
		return c, false, badValue("components: want objects, got %s", kindName(kindOf(v)))
	}
	var cfg []byte
	err = eachMember(v, func(k, v []byte) error {
		switch string(k) {
		case "key":
			s, _, err := str("key", v)
			if err != nil {
				return err
			}
			c.Key = string(s)
		case "config":
			cfg = v
		}
		return nil
	})
	if err != nil || !IsBTHomeSensor(c.Key) {
		return c, false, err
	}
	if kindOf(cfg) != kindObject {
		return c, false, badValue("%s: no config", c.Key)
	}
	if err := bthomeConfig(cfg, &c); err != nil {
		return c, false, err
	}
	return c, true, nil
}

// bthomeConfig reads a BTHomeSensor config object into c (not its Key). The
// component id goes to c.id for GetConfig's answer.
func bthomeConfig(obj []byte, c *BTHomeComponent) error {
	hasObj := false
	err := eachMember(obj, func(k, v []byte) error {
		switch string(k) {
		case "id", "obj_id", "idx":
			x, ok, err := number(string(k), v)
			if err != nil || !ok {
				return err
			}
			if x != float64(int(x)) || x < 0 || x > 1<<20 {
				return badValue("%s: %g is not a component number", k, x)
			}
			switch string(k) {
			case "id":
				c.id = int(x)
			case "obj_id":
				c.ObjID, hasObj = int(x), true
			case "idx":
				c.Idx = int(x)
			}
		case "addr", "name":
			s, ok, err := str(string(k), v)
			if err != nil || !ok {
				return err
			}
			if string(k) == "addr" {
				c.Addr = string(s)
			} else {
				c.Name = string(s)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !hasObj {
		return badValue("config without obj_id")
	}
	return nil
}

// eachElement calls fn with each element of the JSON array arr.
func eachElement(arr []byte, fn func(v []byte) error) error {
	i := skipSpace(arr, 1)
	if i < len(arr) && arr[i] == ']' {
		return nil
	}
	for i < len(arr) {
		j := valueEnd(arr, i)
		if j < 0 {
			return badJSON("malformed array")
		}
		if err := fn(arr[i:j]); err != nil {
			return err
		}
		i = skipSpace(arr, j)
		if i >= len(arr) {
			break
		}
		switch arr[i] {
		case ',':
			i = skipSpace(arr, i+1)
		case ']':
			return nil
		default:
			return badJSON("malformed array")
		}
	}
	return badJSON("malformed array")
}
