package camera

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// genericValue extracts the status value of a generic camera message: the whole
// payload (trimmed) when field is empty, else the JSON field at the dotted path.
// Strings are taken as they are, booleans as "true"/"false", numbers as written
// ("1"). The value is returned in lower case.
func genericValue(payload []byte, field string) (string, error) {
	if err := checkPayload(payload); err != nil {
		return "", err
	}
	if field == "" {
		v := strings.TrimSpace(string(payload))
		if q, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
			v = q // a JSON string as the whole payload
		}
		return strings.ToLower(v), nil
	}
	var node any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&node); err != nil {
		return "", badJSON("generic camera status: %v", err)
	}
	for key := range strings.SplitSeq(field, ".") {
		obj, ok := node.(map[string]any)
		if !ok {
			return "", badValue("generic camera status: no object at %q", clipStr(key))
		}
		if node, ok = obj[key]; !ok {
			return "", badValue("generic camera status: no field %q", clipStr(key))
		}
	}
	switch v := node.(type) {
	case string:
		return strings.ToLower(strings.TrimSpace(v)), nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	case nil:
		return "", badValue("generic camera status: field %q is null", clipStr(field))
	}
	return "", badValue("generic camera status: field %q is not a string, number or boolean", clipStr(field))
}
