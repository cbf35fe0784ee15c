package web

import (
	"net/http"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/webauth"
)

const (
	sessionCookie = webauth.SessionCookie
	loginCookie   = "saqshy_login" // pre-login CSRF token (double submit)
	sessionTTL    = 12 * time.Hour
)

// session is a logged-in user with the CSRF token of its forms.
type session = webauth.Session[*User]

// Role is a user's scope.
type Role string

// Roles.
const (
	RoleMinistry Role = "ministry" // every centre
	RoleRegion   Role = "region"   // the centres of one region
)

// User is a monitor user; PasswordHash is a bcrypt hash (saqshy-monitor hash-password).
type User struct {
	Name   string `yaml:"name"`
	Role   Role   `yaml:"role"`
	Region string `yaml:"region"`
	Lang   string `yaml:"lang"` // ru, kk or en; default ru
	// Timezone is the zone the pages show times in for this user (an IANA name);
	// default: each centre's own zone on its page, report.timezone elsewhere.
	Timezone     string `yaml:"timezone"`
	PasswordHash string `yaml:"password_hash"`
}

// newDummyHash returns the hash compared against when the user name is unknown: a
// bcrypt hash at the configured users' cost (webauth.DummyHash).
func newDummyHash(users []User) []byte {
	hashes := make([]string, len(users))
	for i, u := range users {
		hashes[i] = u.PasswordHash
	}
	return webauth.DummyHash(hashes...)
}

// authenticate returns the user with that name and password, or nil.
func authenticate(users []User, dummyHash []byte, name, password string) *User {
	for i := range users {
		if webauth.NamesEqual(users[i].Name, name) {
			if webauth.CheckPassword([]byte(users[i].PasswordHash), password) {
				return &users[i]
			}
			return nil
		}
	}
	_ = webauth.CheckPassword(dummyHash, password)
	return nil
}

// Login throttling (webauth): at most loginFailures failed logins per client address
// and per user name within loginWindow.
const (
	loginFailures = webauth.Failures
	loginWindow   = webauth.Window
)

// HashPassword returns a bcrypt hash for the config's password_hash.
func HashPassword(password string) (string, error) {
	b, err := webauth.HashPassword(password)
	return string(b), err
}

// allowed reports whether u may see a centre of region (unregistered centres have no
// region and only the ministry sees them).
func (u *User) allowed(c store.CentreInfo, registered bool) bool {
	if u.Role == RoleMinistry {
		return true
	}
	return registered && c.Region == u.Region
}

// setSession sets the session cookie (Secure over HTTPS, also behind a trusted proxy).
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, tok string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.proxy.Secure(r), MaxAge: int(sessionTTL.Seconds())})
}

// reportFor keeps the regions of a daily report that u may see.
func reportFor(r *store.Report, u *User) *store.Report {
	if u.Role == RoleMinistry {
		return r
	}
	out := *r
	out.Regions = nil
	out.Centres = 0
	for _, g := range r.Regions {
		if g.Region == u.Region {
			out.Regions = append(out.Regions, g)
			out.Centres = g.Centres
		}
	}
	return &out
}
