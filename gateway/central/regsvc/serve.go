package regsvc

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
)

// Handler serves GET /registry/v1/<centre>.bundle: the centre's latest signed
// bundle (JSON, as `saqshy-registry sign` wrote it), 404 for a centre without one.
// No login: a bundle is signed, and what it holds is the ministry's requirements
// for that centre. Requests are limited per client address (429 with Retry-After).
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: bundles are fetched with GET", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, BundlePath)
		centre, ok2 := strings.CutSuffix(name, ".bundle")
		if !ok || !ok2 || !store.ValidID(centre) || len(centre) > 128 {
			http.Error(w, "not found: bundles are at "+BundlePath+"<centre>.bundle", http.StatusNotFound)
			return
		}
		if wait, ok := s.allow(s.opt.Proxy.ClientIP(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			http.Error(w, "too many requests: try again later", http.StatusTooManyRequests)
			return
		}
		b := s.latest(centre)
		if b == nil {
			http.Error(w, "not found: no signed registry bundle for this centre", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", strconv.Quote(b.Centre+"-v"+strconv.FormatInt(b.Version, 10)))
		w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b.data)
	})
}

// allow counts a request from addr in the current minute's window; false with the
// time until the next window when addr has had RatePerMinute already.
func (s *Service) allow(addr string) (time.Duration, bool) {
	now := s.now()
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	if now.Sub(s.window) >= time.Minute || now.Before(s.window) {
		s.window, s.counts = now, map[string]int{}
	}
	if s.counts[addr] >= s.opt.RatePerMinute {
		return s.window.Add(time.Minute).Sub(now), false
	}
	s.counts[addr]++
	return 0, true
}
