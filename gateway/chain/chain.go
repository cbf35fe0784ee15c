package chain

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/saqshy/saqshy/gateway/internal/atomicfile"
)

// Chain is a gateway's side of its chain: it makes each write's link and keeps
// the chain's state in one file, fsynced before a link is sent.
//
// State: the base (sequence and hash of the link the next one follows) and at most
// one pending link with its exact body. Prepare with the pending body returns the
// pending link unchanged (a resend, byte for byte); Prepare with another body makes
// the next link after the pending one, since the server may have taken it (if it
// had not, the ingest records a gap of one link). Commit after the server accepted;
// Refused after it answered that it did not (a 4xx), so that the next link takes
// the refused one's sequence number and the chain has no gap.
//
// A Chain is safe for concurrent use, but links are made in the order of the
// calls: a writer that sends concurrently must serialise Prepare…Commit itself
// ([Transport] does).
type Chain struct {
	mu     sync.Mutex
	path   string
	centre string
	key    ed25519.PrivateKey
	keyID  string
	st     state
}

type state struct {
	Version int      `json:"version"`
	Centre  string   `json:"centre"`
	Key     string   `json:"key"`
	Seq     uint64   `json:"seq"`  // base: the last link the server took or may have taken
	Hash    Hash     `json:"hash"` // its hash (zero before the first link)
	Pending *pending `json:"pending,omitempty"`
}

type pending struct {
	Link Link   `json:"link"`
	Body []byte `json:"body"` // base64 in the file
}

// Open loads the chain state at path, or starts a new chain (seq 1 next) when the
// file does not exist. It refuses a state file of another centre or another key:
// a gateway that changed identity starts a new chain in a new file, after the
// registry holds its new key.
func Open(path, centre string, key ed25519.PrivateKey) (*Chain, error) {
	if err := CheckCentre(centre); err != nil {
		return nil, fmt.Errorf("chain: %w", err)
	}
	c := &Chain{path: path, centre: centre, key: key, keyID: Fingerprint(key.Public().(ed25519.PublicKey))}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.st = state{Version: 1, Centre: centre, Key: c.keyID}
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("chain state: %w", err)
	}
	if err := json.Unmarshal(data, &c.st); err != nil {
		return nil, fmt.Errorf("chain state %s is corrupt (%v); the chain cannot continue from it: move it aside, and the ingest records the restart as a sequence conflict for the ministry to clear", path, err)
	}
	switch {
	case c.st.Version != 1:
		return nil, fmt.Errorf("chain state %s: version %d, want 1", path, c.st.Version)
	case c.st.Centre != centre:
		return nil, fmt.Errorf("chain state %s is centre %q's, this gateway is %q", path, c.st.Centre, centre)
	case c.st.Key != c.keyID:
		return nil, fmt.Errorf("chain state %s was signed with key %s, the key now is %s; start a new chain file for the new key", path, c.st.Key, c.keyID)
	case c.st.Pending != nil && BodyHash(c.st.Pending.Body) != c.st.Pending.Link.Body:
		return nil, fmt.Errorf("chain state %s: the pending body does not match its hash", path)
	}
	return c, nil
}

// Centre returns the chain's centre id.
func (c *Chain) Centre() string { return c.centre }

// Head returns the sequence number and hash of the link the next one follows.
func (c *Chain) Head() (uint64, Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.Seq, c.st.Hash
}

// Pending returns the link sent but not yet answered (after a crash: sent or not),
// and its exact body. A writer resends it first after a restart, e.g. with
// WriteAPIBlocking.WriteRecord(ctx, string(body)), which sends the bytes
// unchanged; the ingest accepts an exact resend of a link it has once.
func (c *Chain) Pending() (Link, []byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Pending == nil {
		return Link{}, nil, false
	}
	return c.st.Pending.Link, bytes.Clone(c.st.Pending.Body), true
}

// Prepare returns the link for body (uncompressed line protocol) written with
// precision ("" = "ns"), and has persisted it as pending before returning.
func (c *Chain) Prepare(body []byte, precision string) (Link, error) {
	p, err := ParsePrecision(precision)
	if err != nil {
		return Link{}, fmt.Errorf("chain: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if pd := c.st.Pending; pd != nil {
		if pd.Link.Precision == p && bytes.Equal(pd.Body, body) {
			return pd.Link, nil
		}
		// The server may have taken the pending link: follow it.
		c.st.Seq, c.st.Hash = pd.Link.Seq, pd.Link.Hash()
	}
	l := Link{Centre: c.centre, Seq: c.st.Seq + 1, Prev: c.st.Hash, Body: BodyHash(body), Precision: p}
	l.Sign(c.key)
	next := c.st
	next.Pending = &pending{Link: l, Body: bytes.Clone(body)}
	if err := c.save(next); err != nil {
		return Link{}, err
	}
	return l, nil
}

// Commit records that the server accepted l: it becomes the base.
func (c *Chain) Commit(l Link) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.st
	next.Seq, next.Hash = l.Seq, l.Hash()
	if next.Pending != nil && next.Pending.Link.Seq == l.Seq {
		next.Pending = nil
	}
	return c.save(next)
}

// Refused records that the server answered it did not take l (a 4xx): the pending
// link is dropped and the next link reuses its sequence number.
func (c *Chain) Refused(l Link) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Pending == nil || c.st.Pending.Link.Seq != l.Seq {
		return nil
	}
	next := c.st
	next.Pending = nil
	return c.save(next)
}

func (c *Chain) save(next state) error {
	data, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("chain state: %w", err)
	}
	if err := atomicfile.Write(c.path, data); err != nil {
		return fmt.Errorf("chain state: %w", err)
	}
	c.st = next
	return nil
}
