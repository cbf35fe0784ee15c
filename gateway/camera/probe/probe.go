// Package probe is Saqshy's built-in camera prober, for centres with plain IP
// cameras and no NVR software: every interval it checks each camera's RTSP URL
// (OPTIONS, then DESCRIBE over TCP, with digest or basic authentication) or HTTP
// snapshot URL, and publishes a [camera.Report], retained, on the camera's health
// topic, which the camera check then reads like any other source.
//
// # References
//
// RTSP 1.0: RFC 2326 (OPTIONS §10.1, DESCRIBE §10.2); HTTP digest authentication:
// RFC 7616 (through github.com/icholy/digest); basic: RFC 7617.
package probe

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"

	"github.com/saqshy/saqshy/gateway/camera"
)

// Target is one camera to probe.
type Target struct {
	Camera      string // camera id
	Topic       string // where its reports go
	RTSPURL     string // rtsp://host[:port]/path, or
	SnapshotURL string // http(s)://… returning an image
	Username    string
	Password    string
	Interval    time.Duration
	Timeout     time.Duration
	// Err, when set, is reported instead of probing (the password file could not
	// be read).
	Err error
}

// Publisher publishes on MQTT (the gateway's connection).
type Publisher interface {
	Publish(ctx context.Context, topic string, retained bool, payload []byte) error
}

// Prober probes its targets until its context ends.
type Prober struct {
	targets []Target
	pub     Publisher
	log     *slog.Logger
	client  *http.Client
}

// New returns a prober; log may be nil.
func New(targets []Target, pub Publisher, log *slog.Logger) *Prober {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Prober{targets: targets, pub: pub, log: log, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Run probes every target every interval (the first probe at a random moment of
// the first interval, so that cameras are not all probed at once) and publishes the
// reports. A report that cannot be published is logged and replaced by the next
// probe's. It returns nil when ctx ends.
func (p *Prober) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range p.targets {
		wg.Go(func() { p.loop(ctx, t) })
	}
	wg.Wait()
	return nil
}

func (p *Prober) loop(ctx context.Context, t Target) {
	delay := time.Duration(rand.Int64N(int64(t.Interval)/4 + 1))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	log := p.log.With("component", "camera_probe", "camera", t.Camera)
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		timer.Reset(t.Interval)
		r := p.Probe(ctx, t)
		if ctx.Err() != nil {
			return
		}
		if err := p.pub.Publish(ctx, t.Topic, true, r.Marshal()); err != nil && ctx.Err() == nil {
			log.Warn("camera health not published", "err", err)
		}
	}
}

// Probe checks one target once and returns its report.
func (p *Prober) Probe(ctx context.Context, t Target) camera.Report {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	r := camera.Report{Time: start.UTC(), State: camera.Healthy.String()}
	err := t.Err
	switch {
	case err != nil:
	case t.RTSPURL != "":
		r.Probe = "rtsp"
		err = RTSP(ctx, t.RTSPURL, t.Username, t.Password)
	default:
		r.Probe = "http"
		err = Snapshot(ctx, p.client, t.SnapshotURL, t.Username, t.Password)
	}
	r.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		r.State, r.Reason = camera.Offline.String(), Reason(err)
	}
	return r
}

// Errors the probes classify.
var (
	ErrUnauthorized = errors.New("unauthorized")
	ErrTimeout      = errors.New("timeout")
	ErrRefused      = errors.New("connection refused")
)

// StatusError is a response other than success.
type StatusError struct {
	Code   int
	Status string
}

func (e *StatusError) Error() string { return "status " + strconv.Itoa(e.Code) + " " + e.Status }

// Reason turns a probe error into a short reason for the report: "unauthorized:
// wrong credentials", "timeout", "connection refused", "status 404 Not Found", or
// the error itself.
func Reason(err error) string {
	var se *StatusError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnauthorized):
		return err.Error()
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timeout"
	case errors.Is(err, ErrRefused), isRefused(err):
		return "connection refused"
	case errors.As(err, &se):
		return se.Error()
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.ToValidUTF8(s, "")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isRefused(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial" && strings.Contains(oe.Err.Error(), "refused")
}

// RTSP sends OPTIONS and then DESCRIBE to rawURL over one TCP connection, answering
// a 401 with digest (preferred) or basic credentials, and checks that DESCRIBE
// returns an SDP session description. ctx bounds the whole exchange.
func RTSP(ctx context.Context, rawURL, user, pass string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "rtsp" || u.Hostname() == "" {
		return fmt.Errorf("rtsp: invalid URL %q", rawURL)
	}
	u.User = nil
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "554")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("rtsp %s: %w", host, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s := &rtspSession{conn: conn, rd: textproto.NewReader(bufio.NewReader(conn)), url: u.String(), user: user, pass: pass}
	if _, err := s.do("OPTIONS", ""); err != nil {
		return err
	}
	body, err := s.do("DESCRIBE", "Accept: application/sdp\r\n")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(strings.TrimSpace(string(body)), "v=0") {
		return fmt.Errorf("rtsp DESCRIBE: the answer is not an SDP session description")
	}
	return nil
}

type rtspSession struct {
	conn       net.Conn
	rd         *textproto.Reader
	url        string
	user, pass string
	cseq       int
	auth       func(method string) (string, error) // set after the first challenge
	nc         int
}

// do sends one request (again with credentials after a 401) and returns the body
// of a 2xx answer.
func (s *rtspSession) do(method, extra string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		authz := ""
		if s.auth != nil {
			a, err := s.auth(method)
			if err != nil {
				return nil, err
			}
			authz = "Authorization: " + a + "\r\n"
		}
		s.cseq++
		req := fmt.Sprintf("%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: saqshy-gateway\r\n%s%s\r\n", method, s.url, s.cseq, extra, authz)
		if _, err := io.WriteString(s.conn, req); err != nil {
			return nil, fmt.Errorf("rtsp %s: %w", method, err)
		}
		code, status, hdr, body, err := s.read()
		if err != nil {
			return nil, fmt.Errorf("rtsp %s: %w", method, err)
		}
		switch {
		case code >= 200 && code < 300:
			return body, nil
		case code != 401:
			return nil, fmt.Errorf("rtsp %s: %w", method, &StatusError{Code: code, Status: status})
		case attempt > 0 || s.auth != nil:
			return nil, fmt.Errorf("rtsp %s: %w: wrong credentials", method, ErrUnauthorized)
		case s.user == "":
			return nil, fmt.Errorf("rtsp %s: %w: the camera wants credentials (username, password_file)", method, ErrUnauthorized)
		}
		if s.auth, err = authenticator(hdr.Values("Www-Authenticate"), s.url, s.user, s.pass, &s.nc); err != nil {
			return nil, fmt.Errorf("rtsp %s: %w", method, err)
		}
	}
}

// read reads one RTSP response.
func (s *rtspSession) read() (code int, status string, hdr textproto.MIMEHeader, body []byte, err error) {
	line, err := s.rd.ReadLine()
	if err != nil {
		return 0, "", nil, nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	num, status, _ := strings.Cut(rest, " ")
	code, cerr := strconv.Atoi(num)
	if !strings.HasPrefix(proto, "RTSP/") || cerr != nil {
		return 0, "", nil, nil, fmt.Errorf("not an RTSP response: %.60q", line)
	}
	hdr, err = s.rd.ReadMIMEHeader()
	if err != nil {
		return 0, "", nil, nil, err
	}
	if cl := hdr.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > 1<<20 {
			return 0, "", nil, nil, fmt.Errorf("bad Content-Length %q", cl)
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(s.rd.R, body); err != nil {
			return 0, "", nil, nil, err
		}
	}
	return code, status, hdr, body, nil
}

// authenticator picks digest (preferred) or basic from a 401's challenges and
// returns what computes the Authorization header for a method.
func authenticator(challenges []string, uri, user, pass string, nc *int) (func(method string) (string, error), error) {
	for _, c := range challenges {
		if !digest.IsDigest(c) {
			continue
		}
		chal, err := digest.ParseChallenge(c)
		if err != nil {
			return nil, fmt.Errorf("digest challenge: %w", err)
		}
		if !digest.CanDigest(chal) {
			continue
		}
		return func(method string) (string, error) {
			*nc++
			cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: pass, Count: *nc})
			if err != nil {
				return "", fmt.Errorf("digest: %w", err)
			}
			return cred.String(), nil
		}, nil
	}
	for _, c := range challenges {
		if len(c) >= 5 && strings.EqualFold(c[:5], "basic") {
			v := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
			return func(string) (string, error) { return v, nil }, nil
		}
	}
	return nil, fmt.Errorf("%w: no digest or basic challenge in %q", ErrUnauthorized, challenges)
}

// Snapshot GETs rawURL, answering a 401 with digest (preferred) or basic
// credentials, and checks that the answer is a non-empty image.
func Snapshot(ctx context.Context, client *http.Client, rawURL, user, pass string) error {
	body, err := Get(ctx, client, rawURL, user, pass, 16<<20)
	switch {
	case err != nil:
		return err
	case len(body) == 0:
		return fmt.Errorf("snapshot: empty image")
	case !strings.HasPrefix(http.DetectContentType(body), "image/"):
		return fmt.Errorf("snapshot: not an image (%s)", http.DetectContentType(body))
	}
	return nil
}

// Get GETs rawURL, answering a 401 with digest (preferred) or basic credentials,
// and returns at most max bytes of the body (the camera still watcher's fetch;
// errors start "snapshot:").
func Get(ctx context.Context, client *http.Client, rawURL, user, pass string, max int64) ([]byte, error) {
	var auth func(string) (string, error)
	var nc int
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		if auth != nil {
			a, err := auth(http.MethodGet)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", a)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
		resp.Body.Close()
		switch {
		case err != nil:
			return nil, fmt.Errorf("snapshot: %w", err)
		case resp.StatusCode == http.StatusUnauthorized && (attempt > 0 || auth != nil):
			return nil, fmt.Errorf("snapshot: %w: wrong credentials", ErrUnauthorized)
		case resp.StatusCode == http.StatusUnauthorized && user == "":
			return nil, fmt.Errorf("snapshot: %w: the camera wants credentials (username, password_file)", ErrUnauthorized)
		case resp.StatusCode == http.StatusUnauthorized:
			if auth, err = authenticator(resp.Header.Values("Www-Authenticate"), req.URL.RequestURI(), user, pass, &nc); err != nil {
				return nil, fmt.Errorf("snapshot: %w", err)
			}
			continue
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("snapshot: %w", &StatusError{Code: resp.StatusCode, Status: http.StatusText(resp.StatusCode)})
		case int64(len(body)) > max:
			return nil, fmt.Errorf("snapshot: more than the limit of %d bytes", max)
		}
		return body, nil
	}
}
