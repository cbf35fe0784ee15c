package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/saqshy/saqshy/gateway/chain"
	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// Head is the ingest's view of one centre's chain, kept in <heads>/<centre>.json
// (written atomically and fsynced before a request is answered).
type Head struct {
	Centre      string     `json:"centre"`
	Seq         uint64     `json:"seq"`          // last accepted link
	Hash        chain.Hash `json:"hash"`         // its hash
	LastContact time.Time  `json:"last_contact"` // when it was accepted (the ingest's clock)
	// Quiet lists the recent silences (no accepted link for longer than
	// Config.QuietAfter), newest last: the backlog of these periods may still come.
	Quiet []Span `json:"quiet,omitempty"`
	// Gaps lists recent sequence gaps (links that never arrived), newest last.
	Gaps      []Gap             `json:"gaps,omitempty"`
	GapsTotal uint64            `json:"gaps_total"`        // links missing over the chain's life
	Accepted  uint64            `json:"accepted"`          // requests accepted
	Resends   uint64            `json:"resends"`           // exact resends answered without writing
	Points    uint64            `json:"points"`            // points forwarded
	Refused   map[string]uint64 `json:"refused,omitempty"` // refusals by reason code
	Backdates uint64            `json:"backdates"`         // points refused as backdated
}

// Span is a time interval.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Gap is a run of missing links: From..To inclusive, noticed At.
type Gap struct {
	From uint64    `json:"from"`
	To   uint64    `json:"to"`
	At   time.Time `json:"at"`
}

const (
	maxQuiet = 32
	maxGaps  = 32
)

// heads keeps Head files in a directory.
type heads struct{ dir string }

func (h heads) path(centre string) string { return filepath.Join(h.dir, centre+".json") }

// lockPath is the file a request flocks while it reads and advances the head
// (lock_unix.go): the lock is what lets N replicas share one heads directory.
func (h heads) lockPath(centre string) string { return filepath.Join(h.dir, centre+".lock") }

// load returns centre's head, or a zero head (Seq 0) for a centre never seen.
func (h heads) load(centre string) (Head, error) {
	data, err := os.ReadFile(h.path(centre))
	if errors.Is(err, fs.ErrNotExist) {
		return Head{Centre: centre}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("chain head: %w", err)
	}
	var hd Head
	if err := json.Unmarshal(data, &hd); err != nil {
		return Head{}, fmt.Errorf("chain head %s is corrupt: %w", h.path(centre), err)
	}
	if hd.Centre != centre {
		return Head{}, fmt.Errorf("chain head %s names centre %q", h.path(centre), hd.Centre)
	}
	return hd, nil
}

func (h heads) save(hd Head) error {
	data, err := json.MarshalIndent(hd, "", "  ")
	if err != nil {
		return fmt.Errorf("chain head: %w", err)
	}
	return atomicfile.Write(h.path(hd.Centre), data)
}

// all returns every head in the directory.
func (h heads) all() ([]Head, error) {
	names, err := filepath.Glob(filepath.Join(h.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := make([]Head, 0, len(names))
	for _, n := range names {
		c := filepath.Base(n)
		c = c[:len(c)-len(".json")]
		if chain.CheckCentre(c) != nil {
			continue
		}
		hd, err := h.load(c)
		if err != nil {
			return nil, err
		}
		out = append(out, hd)
	}
	return out, nil
}
