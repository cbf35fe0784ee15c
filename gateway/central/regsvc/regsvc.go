// Package regsvc is the monitor's side of the ministry registry (docs/RATING.md):
// the registry entries kept as files (one YAML per centre in a directory), edited
// by region officers through the monitor with every change appended to a change
// log, and the signed bundles (made offline with `saqshy-registry sign` and placed
// in a bundles directory) served to the gateways over HTTPS at
// GET /registry/v1/<centre>.bundle.
//
// The ministry's private key never comes here: an edit produces a new entry
// version awaiting signature; only a bundle signed by the ministry key (the
// monitor checks it against the public key) is listed and served.
package regsvc

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/saqshy/saqshy/gateway/central/store"
	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
	"github.com/saqshy/saqshy/gateway/registry"
	"github.com/saqshy/saqshy/gateway/webauth"
)

// BundlePath is the URL path prefix the bundles are served under:
// BundlePath + "<centre>.bundle".
const BundlePath = "/registry/v1/"

// ChangeLog is the change log's file name in the entries directory (JSON lines,
// append-only).
const ChangeLog = "changes.log"

// ErrNoEntry: the centre has no registry entry file (it is an fs.ErrNotExist).
var ErrNoEntry = fmt.Errorf("no registry entry: %w", fs.ErrNotExist)

// Options configure a Service.
type Options struct {
	Dir         string            // the entries: <centre>.yaml
	BundlesDir  string            // the signed bundles: any *.bundle file
	MinistryKey ed25519.PublicKey // bundles not signed by it are neither listed nor served
	Proxy       webauth.Proxy     // who may name the client's address (rate limit)
	// RatePerMinute bounds bundle requests per client address; default 30.
	RatePerMinute int
	// Rescan: the bundles directory is read again at most this often; default 10s.
	Rescan time.Duration
	Log    *slog.Logger
	Now    func() time.Time
}

// Service keeps the entries and serves the bundles.
type Service struct {
	opt Options
	log *slog.Logger
	now func() time.Time

	editMu sync.Mutex // one edit at a time (entry file and change log)

	mu       sync.Mutex
	scanned  time.Time
	bundles  map[string][]*signed // per centre, by version ascending
	problems []string

	limitMu sync.Mutex
	window  time.Time
	counts  map[string]int
}

type signed struct {
	store.SignedBundle
	data  []byte
	entry *registry.Entry
}

// New checks the directories and the key.
func New(opt Options) (*Service, error) {
	if len(opt.MinistryKey) != ed25519.PublicKeySize {
		return nil, errors.New("registry: the ministry public key is required to check the bundles")
	}
	for name, d := range map[string]string{"dir": opt.Dir, "bundles_dir": opt.BundlesDir} {
		st, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("registry.%s: %w", name, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("registry.%s: %s is not a directory", name, d)
		}
	}
	if opt.RatePerMinute <= 0 {
		opt.RatePerMinute = 30
	}
	if opt.Rescan <= 0 {
		opt.Rescan = 10 * time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{opt: opt, log: opt.Log, now: opt.Now, counts: map[string]int{}}, nil
}

// entryPath is the entry file of a centre.
func (s *Service) entryPath(centre string) (string, error) {
	if !store.ValidID(centre) || len(centre) > 128 || strings.HasPrefix(centre, ".") {
		return "", fmt.Errorf("registry: %q is not a centre id", centre)
	}
	return filepath.Join(s.opt.Dir, centre+".yaml"), nil
}

// Source returns a centre's entry file as written (ErrNoEntry when there is none).
func (s *Service) Source(centre string) ([]byte, error) {
	p, err := s.entryPath(centre)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("registry: %s: %w", centre, ErrNoEntry)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return b, nil
}

// Centres lists the centres with an entry file.
func (s *Service) Centres() ([]string, error) {
	ents, err := os.ReadDir(s.opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	var out []string
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".yaml")
		if ok && !e.IsDir() && store.ValidID(id) && !strings.HasPrefix(id, ".") {
			out = append(out, id)
		}
	}
	return out, nil
}

var versionLine = regexp.MustCompile(`(?m)^version:[ \t]*([0-9]+)[ \t]*(#.*)?$`)

// Draft returns the text an officer starts an edit from: the entry file, with its
// version raised to the next one when the file's version is already signed (an
// edit is a new version awaiting signature).
func (s *Service) Draft(centre string) ([]byte, error) {
	src, err := s.Source(centre)
	if err != nil {
		return nil, err
	}
	latest := s.LatestVersion(centre)
	m := versionLine.FindSubmatchIndex(src)
	if m == nil {
		return src, nil
	}
	v, err := strconv.ParseInt(string(src[m[2]:m[3]]), 10, 64)
	if err != nil || v > latest {
		return src, nil
	}
	out := append([]byte{}, src[:m[2]]...)
	out = append(out, strconv.FormatInt(latest+1, 10)...)
	return append(out, src[m[3]:]...), nil
}

// SaveError is an edit refused: one message per problem, each "file:line: field:
// what" where the entry's parser gives a line.
type SaveError struct{ Problems []string }

func (e *SaveError) Error() string { return strings.Join(e.Problems, "\n") }

// EntryProblems returns the problems, one per line, for the editing page.
func (e *SaveError) EntryProblems() []string { return e.Problems }

// Save validates src as the centre's new entry (registry.Parse) and writes it,
// after appending the change (who, when, the diff) to the change log. region is
// the editing user's region ("" for the ministry): a region officer may keep only
// entries of that region. The new version must be above the latest signed one and
// not below the file's. It returns the change (nil when src is the file as it is).
func (s *Service) Save(centre, user, region string, src []byte) (*store.RegistryChange, error) {
	path, err := s.entryPath(centre)
	if err != nil {
		return nil, err
	}
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	s.editMu.Lock()
	defer s.editMu.Unlock()
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("registry: %w", err)
	}
	if old != nil && bytes.Equal(old, src) {
		return nil, nil
	}
	name := centre + ".yaml"
	e, err := registry.Parse(name, src)
	if err != nil {
		return nil, &SaveError{Problems: strings.Split(err.Error(), "\n")}
	}
	var probs []string
	line := func(field string) string {
		if m := versionLine.FindIndex(src); m != nil && field == "version" {
			return fmt.Sprintf("%s:%d: ", name, bytes.Count(src[:m[0]], []byte("\n"))+1)
		}
		return name + ": "
	}
	if e.Centre.ID != centre {
		probs = append(probs, fmt.Sprintf("%scentre.id: %q, but this is the entry of %q", line("centre.id"), e.Centre.ID, centre))
	}
	if region != "" && !strings.EqualFold(e.Centre.Region, region) {
		probs = append(probs, fmt.Sprintf("%scentre.region: %q; you keep the entries of region %q only", line("centre.region"), e.Centre.Region, region))
	}
	var from int64
	if old != nil {
		if oe, err := registry.Parse(name, old); err == nil {
			from = oe.Version
		}
	}
	latest := s.LatestVersion(centre)
	switch {
	case e.Version <= latest:
		probs = append(probs, fmt.Sprintf("%sversion: %d, but v%d is already signed: a change must raise it to %d", line("version"), e.Version, latest, latest+1))
	case e.Version < from:
		probs = append(probs, fmt.Sprintf("%sversion: %d is below the entry's current version %d", line("version"), e.Version, from))
	}
	if len(probs) > 0 {
		return nil, &SaveError{Problems: probs}
	}
	ch := &store.RegistryChange{At: s.now().UTC(), User: user, Region: region, Centre: centre, From: from, To: e.Version,
		Diff: UnifiedDiff(name, string(old), string(src))}
	if err := s.appendChange(ch); err != nil {
		// A change that cannot be logged is not made.
		return nil, fmt.Errorf("registry: change log: %w", err)
	}
	if err := atomicfile.Write(path, src); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	s.log.Info("registry entry changed", "centre", centre, "user", user, "from", from, "to", e.Version)
	return ch, nil
}

// appendChange appends one JSON line to the change log and syncs it.
func (s *Service) appendChange(ch *store.RegistryChange) error {
	return atomicfile.AppendJSONLine(filepath.Join(s.opt.Dir, ChangeLog), ch)
}

// Changes returns a centre's changes from the change log, newest first ("" : every
// centre's).
func (s *Service) Changes(centre string) ([]store.RegistryChange, error) {
	b, err := os.ReadFile(filepath.Join(s.opt.Dir, ChangeLog))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: change log: %w", err)
	}
	var out []store.RegistryChange
	for i, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var ch store.RegistryChange
		if err := json.Unmarshal(l, &ch); err != nil {
			return nil, fmt.Errorf("registry: change log line %d: %w", i+1, err)
		}
		if centre == "" || ch.Centre == centre {
			out = append(out, ch)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, nil
}

// scan reads the bundles directory when it was last read over Rescan ago.
func (s *Service) scan() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bundles != nil && now.Sub(s.scanned) < s.opt.Rescan && !now.Before(s.scanned) {
		return
	}
	s.scanned = now
	s.bundles, s.problems = map[string][]*signed{}, nil
	ents, err := os.ReadDir(s.opt.BundlesDir)
	if err != nil {
		s.problems = append(s.problems, err.Error())
		s.log.Error("registry bundles", "err", err)
		return
	}
	for _, de := range ents {
		if de.IsDir() || !strings.HasSuffix(de.Name(), ".bundle") {
			continue
		}
		p := filepath.Join(s.opt.BundlesDir, de.Name())
		data, err := os.ReadFile(p)
		var e *registry.Entry
		if err == nil && len(data) > registry.MaxBundleSize {
			err = fmt.Errorf("%d bytes is too large", len(data))
		}
		if err == nil {
			e, err = registry.Verify(data, s.opt.MinistryKey)
		}
		info, ierr := de.Info()
		if err == nil {
			err = ierr
		}
		if err != nil {
			s.problems = append(s.problems, fmt.Sprintf("%s: %v", de.Name(), err))
			s.log.Warn("registry bundle refused", "file", de.Name(), "err", err)
			continue
		}
		b, _ := registry.DecodeBundle(data)
		sb := &signed{SignedBundle: store.SignedBundle{Centre: e.Centre.ID, Version: e.Version, NotBefore: e.NotBefore,
			Published: info.ModTime(), KeyID: b.KeyID, File: de.Name()}, data: data, entry: e}
		list := s.bundles[e.Centre.ID]
		dup := false
		for _, o := range list {
			if o.Version == sb.Version {
				dup = true
				if !bytes.Equal(o.data, data) {
					s.problems = append(s.problems, fmt.Sprintf("%s and %s: two different signed bundles of %s v%d; neither is served", o.File, sb.File, sb.Centre, sb.Version))
					o.data = nil
				}
			}
		}
		if !dup {
			s.bundles[e.Centre.ID] = append(list, sb)
		}
	}
	for c, list := range s.bundles {
		kept := list[:0]
		for _, b := range list {
			if b.data != nil {
				kept = append(kept, b)
			}
		}
		sort.Slice(kept, func(i, j int) bool { return kept[i].Version < kept[j].Version })
		s.bundles[c] = kept
	}
}

// Signed returns every centre's signed bundles, by version ascending.
func (s *Service) Signed() map[string][]store.SignedBundle {
	s.scan()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]store.SignedBundle, len(s.bundles))
	for c, list := range s.bundles {
		for _, b := range list {
			out[c] = append(out[c], b.SignedBundle)
		}
	}
	return out
}

// Entries returns, per centre, the entry of its latest signed bundle that is in
// force now (not_before passed): what the central rating scores the centre by.
// Drafts awaiting signature are not in force.
func (s *Service) Entries() []*registry.Entry {
	s.scan()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*registry.Entry, 0, len(s.bundles))
	for _, list := range s.bundles {
		for i := len(list) - 1; i >= 0; i-- {
			if !list[i].NotBefore.After(now) {
				out = append(out, list[i].entry)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Centre.ID < out[j].Centre.ID })
	return out
}

// Problems lists the bundle files refused at the last scan (bad signature, another
// key, two different bundles of one version…).
func (s *Service) Problems() []string {
	s.scan()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

// latest returns a centre's latest signed bundle.
func (s *Service) latest(centre string) *signed {
	s.scan()
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.bundles[centre]
	if len(list) == 0 {
		return nil
	}
	return list[len(list)-1]
}

// Latest returns a centre's latest signed bundle.
func (s *Service) Latest(centre string) (store.SignedBundle, bool) {
	if b := s.latest(centre); b != nil {
		return b.SignedBundle, true
	}
	return store.SignedBundle{}, false
}

// LatestVersion is the latest signed version of a centre's entry, 0 when none.
func (s *Service) LatestVersion(centre string) int64 {
	if b := s.latest(centre); b != nil {
		return b.Version
	}
	return 0
}
