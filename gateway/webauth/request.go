package webauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// SafeNext keeps only local paths as a redirect target. Control characters, DEL and
// backslashes are refused anywhere: browsers drop tabs and newlines from a URL and
// read a backslash as a slash, so "/\t/evil.example" or "/\\evil.example" would go to
// another host.
func SafeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") {
		return "/"
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return n
}

// SameOrigin rejects a cross-site request that announces its origin. A browser's
// Sec-Fetch-Site (which pages cannot set) decides when present: a page sent with
// Referrer-Policy: no-referrer posts its forms with Origin: null, and Chromium then
// says same-origin there. Without it, the Origin header decides.
func SameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "same-site", "cross-site":
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	return o == "http://"+r.Host || o == "https://"+r.Host
}

// Proxy says which reverse proxies are trusted to name the client: a request whose
// peer address is within Trusted takes its client address from Header (the last
// address in it, the one the proxy added) and its scheme from X-Forwarded-Proto.
// The zero Proxy trusts nobody: the peer is the client.
type Proxy struct {
	Trusted []netip.Prefix
	Header  string // default X-Forwarded-For
}

// ParseProxy parses the trusted proxies' addresses or CIDR prefixes.
func ParseProxy(trusted []string, header string) (Proxy, error) {
	p := Proxy{Header: header}
	for _, s := range trusted {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return Proxy{}, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR prefix", s)
			}
			p.Trusted = append(p.Trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		pr, err := netip.ParsePrefix(s)
		if err != nil {
			return Proxy{}, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR prefix", s)
		}
		p.Trusted = append(p.Trusted, pr.Masked())
	}
	return p, nil
}

func peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// trusted reports whether r came through a trusted proxy.
func (p Proxy) trusted(r *http.Request) bool {
	a, err := netip.ParseAddr(peer(r))
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, pr := range p.Trusted {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP is the address a request came from, without its port: the peer, or,
// behind a trusted proxy, the last valid address of the proxy's header.
func (p Proxy) ClientIP(r *http.Request) string {
	if !p.trusted(r) {
		return peer(r)
	}
	h := p.Header
	if h == "" {
		h = "X-Forwarded-For"
	}
	vals := r.Header.Values(h)
	if len(vals) == 0 {
		return peer(r)
	}
	parts := strings.Split(vals[len(vals)-1], ",")
	if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
		return a.Unmap().String()
	}
	return peer(r)
}

// Secure reports whether the browser reached r over HTTPS: directly, or through a
// trusted proxy that says so in X-Forwarded-Proto. Session cookies get Secure then.
func (p Proxy) Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return p.trusted(r) && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

// CSRFCookie is the cookie SignedCSRF's tokens are computed from.
const CSRFCookie = "saqshy_csrf"

// SignedCSRF gives forms a token that is an HMAC of the browser's CSRF cookie,
// for pages whose forms are shown before a session exists. A page on another site
// can neither read the cookie nor compute the token.
type SignedCSRF struct{ key [32]byte }

// NewSignedCSRF returns a signer with a random key (tokens end with the process).
func NewSignedCSRF() *SignedCSRF {
	s := &SignedCSRF{}
	_, _ = rand.Read(s.key[:]) // never fails (crypto/rand)
	return s
}

// Token returns the form token for a cookie value.
func (s *SignedCSRF) Token(cookie string) string {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Ensure returns the request's CSRF cookie value, setting a new one on w when there
// is none.
func (s *SignedCSRF) Ensure(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := NewToken()
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return v
}

// Check verifies a POST's csrf form value against its cookie.
func (s *SignedCSRF) Check(r *http.Request) bool {
	c, err := r.Cookie(CSRFCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(s.Token(c.Value)))
}
