package alert

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
)

// Handler serves the alerts' local HTTP API, for the gateway's status server to
// mount at /api/alerts:
//
//	GET  /api/alerts            the open alerts (JSON array of Open)
//	POST /api/alerts/{id}/ack   acknowledge; body {"by": "name"} (JSON) or form by=name
//
// With a token, requests must carry "Authorization: Bearer <token>"; without one,
// only clients on the loopback interface are served.
func (e *Engine) Handler(token string) http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !authorised(r, token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="saqshy"`)
				httpError(w, http.StatusUnauthorized, "unauthorised: send Authorization: Bearer <alerts api token>")
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/alerts", auth(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.Snapshot())
	}))
	mux.HandleFunc("POST /api/alerts/{id}/ack", auth(func(w http.ResponseWriter, r *http.Request) {
		by, err := ackBy(r)
		if err != nil {
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		via := ViaAPI
		if fromLoopback(r) {
			via = ViaLoopback // a script on the gateway itself: no person
		}
		a, err := e.AckVia(r.PathValue("id"), AckBy{By: by, Via: via})
		switch {
		case errors.Is(err, ErrNotFound):
			httpError(w, http.StatusNotFound, "no such alert")
		case errors.Is(err, ErrResolved):
			httpError(w, http.StatusConflict, "already resolved")
		case err != nil:
			httpError(w, http.StatusInternalServerError, err.Error())
		default:
			writeJSON(w, http.StatusOK, map[string]any{"id": a.ID, "state": a.State, "acked_by": a.AckedBy, "acked_at": a.AckedAt,
				"ack_suspect": a.AckSuspect})
		}
	}))
	return mux
}

func authorised(r *http.Request, token string) bool {
	if token == "" {
		return fromLoopback(r)
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// fromLoopback reports whether r came from the gateway itself.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// ackBy reads who acknowledges from the request body.
func ackBy(r *http.Request) (string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 4<<10)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var by string
	switch ct {
	case "application/json":
		var body struct {
			By string `json:"by"`
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return "", errors.New("body too large or unreadable")
		}
		if err := json.Unmarshal(data, &body); err != nil {
			return "", errors.New("body: invalid JSON: " + err.Error())
		}
		by = body.By
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			return "", errors.New("body: invalid form: " + err.Error())
		}
		by = r.PostFormValue("by")
	case "":
		by = r.URL.Query().Get("by")
	default:
		return "", errors.New("unsupported content type " + ct + ": send application/json {\"by\": \"name\"}")
	}
	by = strings.TrimSpace(by)
	if by == "" {
		return "", errors.New(`missing "by": who acknowledges`)
	}
	if len(by) > 200 {
		return "", errors.New(`"by" is longer than 200 bytes`)
	}
	return by, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
