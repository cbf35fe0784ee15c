// Package outbox is the durable queue between the alert engine and the channels
// (Telegram, e-mail, webhook, MQTT): a notification is written to disk before
// Enqueue returns, retried with backoff until its channel accepts it, survives a
// restart, and is delivered once: its ID is remembered after delivery, and a
// notification enqueued again with the same ID is dropped.
package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Notification is one message to one address on one channel.
type Notification struct {
	// ID is unique per message: the same ID enqueued twice is delivered once.
	ID      string `json:"id"`
	Channel string `json:"channel"` // telegram, email, webhook, mqtt
	To      string `json:"to"`      // chat id, e-mail address or MQTT topic; "" for the webhook
	AlertID string `json:"alert_id"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	// Button is the label of Telegram's inline acknowledge button; "" for none.
	Button string `json:"button,omitempty"`
	// Body is the webhook's JSON or the MQTT payload (empty clears a retained topic).
	Body     json.RawMessage `json:"body,omitempty"`
	Retained bool            `json:"retained,omitempty"`
	// Supersede: enqueueing a notification drops pending ones with the same
	// non-empty Supersede key (an MQTT state that a newer one replaces).
	Supersede string    `json:"supersede,omitempty"`
	Created   time.Time `json:"created"`
}

// Sender delivers notifications of one channel. Send returns nil once the peer
// accepted the notification; an error means "try again later", unless it is
// marked with Permanent (the peer refused this notification for good: it is
// moved to the dead-letter directory). It is called from one goroutine per
// channel.
type Sender interface {
	Send(ctx context.Context, n *Notification) error
}

// Permanent marks err as a refusal that retrying cannot change (Telegram's 400
// "chat not found" or 403 "blocked by the user", a webhook's 4xx). nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// pruneEvery is how often Flush forgets delivered IDs older than KeepDelivered.
const pruneEvery = time.Hour

// Options configure an Outbox.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
	// MinBackoff and MaxBackoff bound the delay between attempts (default 5s, 5m).
	MinBackoff, MaxBackoff time.Duration
	// KeepDelivered is how long delivered IDs are remembered (default 30 days).
	KeepDelivered time.Duration
	// MaxAge is how long a notification is retried before it is moved to the
	// dead-letter directory (default 7 days).
	MaxAge time.Duration
}

// Stats counts what the outbox did, per channel.
type Stats struct {
	Enqueued, Delivered, Failures, Duplicates, Pending map[string]uint64
	Corrupt                                            uint64 // unreadable entries moved aside
	// Dead counts, since Open, the entries moved to dir/dead: refused for good
	// by their peer or older than MaxAge.
	Dead      map[string]uint64
	LastError map[string]string
}

// Outbox is a durable notification queue in a directory. Safe for concurrent use.
type Outbox struct {
	dir     string
	senders map[string]Sender
	opt     Options
	log     *slog.Logger

	mu        sync.Mutex
	seq       uint64
	pending   map[string]*entry // by ID
	delivered map[string]time.Time
	dlog      *os.File
	stats     Stats
	wake      map[string]chan struct{}
	pruned    time.Time // last pruning of the delivered IDs
}

type entry struct {
	N        Notification
	file     string
	attempts int
	next     time.Time
	busy     bool
	// dropped: superseded while its send was in flight; discarded when the
	// send returns, whatever its outcome, and never retried.
	dropped bool
}

// Open opens (creating) the outbox in dir. Entries that cannot be read are moved
// to dir/corrupt and counted; they never stop the outbox.
func Open(dir string, senders map[string]Sender, opt Options) (*Outbox, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 5 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Minute
	}
	if opt.KeepDelivered <= 0 {
		opt.KeepDelivered = 30 * 24 * time.Hour
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = 7 * 24 * time.Hour
	}
	o := &Outbox{dir: dir, senders: senders, opt: opt, log: opt.Logger, pending: map[string]*entry{},
		delivered: map[string]time.Time{}, wake: map[string]chan struct{}{}}
	o.stats = Stats{Enqueued: map[string]uint64{}, Delivered: map[string]uint64{}, Failures: map[string]uint64{},
		Duplicates: map[string]uint64{}, Pending: map[string]uint64{}, Dead: map[string]uint64{}, LastError: map[string]string{}}
	o.pruned = opt.Now()
	for ch := range senders {
		o.wake[ch] = make(chan struct{}, 1)
	}
	if err := os.MkdirAll(filepath.Join(dir, "pending"), 0o750); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if err := o.loadDelivered(); err != nil {
		return nil, err
	}
	if err := o.loadPending(); err != nil {
		return nil, err
	}
	return o, nil
}

// Close closes the delivered log.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dlog == nil {
		return nil
	}
	err := o.dlog.Close()
	o.dlog = nil
	return err
}

func (o *Outbox) loadDelivered() error {
	path := filepath.Join(o.dir, "delivered.log")
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("outbox: %w", err)
	}
	cutoff := o.opt.Now().Add(-o.opt.KeepDelivered)
	var keep []string
	for line := range strings.SplitSeq(string(data), "\n") {
		id, ts, ok := strings.Cut(line, " ")
		if !ok {
			continue // a torn last line
		}
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			continue
		}
		at := time.Unix(sec, 0)
		if at.Before(cutoff) {
			continue
		}
		o.delivered[id] = at
		keep = append(keep, line)
	}
	// Rewrite without the expired and torn lines, atomically.
	tmp := path + ".tmp"
	content := strings.Join(keep, "\n")
	if content != "" {
		content += "\n"
	}
	if err := writeFileSync(tmp, []byte(content)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.dlog = f
	return nil
}

func (o *Outbox) loadPending() error {
	dir := filepath.Join(o.dir, "pending")
	names, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, de := range names {
		name := de.Name()
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(path) // a write interrupted before its rename
			continue
		}
		seqStr, _, _ := strings.Cut(name, "-")
		seq, serr := strconv.ParseUint(seqStr, 10, 64)
		data, err := os.ReadFile(path)
		var n Notification
		if err == nil {
			err = json.Unmarshal(data, &n)
		}
		if err == nil && (serr != nil || n.ID == "" || n.Channel == "") {
			err = errors.New("missing id, channel or sequence")
		}
		if err != nil {
			o.stats.Corrupt++
			o.log.Error("outbox entry unreadable, moved aside", "file", name, "err", err)
			_ = os.MkdirAll(filepath.Join(o.dir, "corrupt"), 0o750)
			_ = os.Rename(path, filepath.Join(o.dir, "corrupt", name))
			continue
		}
		if _, done := o.delivered[n.ID]; done {
			os.Remove(path)
			continue
		}
		o.seq = max(o.seq, seq)
		o.pending[n.ID] = &entry{N: n, file: path}
		o.stats.Pending[n.Channel]++
	}
	return nil
}

func key(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:12])
}

// Enqueue stores n durably and wakes its channel. A notification whose ID is
// pending or was delivered is dropped (counted as a duplicate); that is no error.
func (o *Outbox) Enqueue(n Notification) error {
	if n.ID == "" || n.Channel == "" {
		return errors.New("outbox: notification without id or channel")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.senders[n.Channel]; !ok {
		return fmt.Errorf("outbox: no channel %q", n.Channel)
	}
	if _, ok := o.pending[n.ID]; ok {
		o.stats.Duplicates[n.Channel]++
		return nil
	}
	if _, ok := o.delivered[n.ID]; ok {
		o.stats.Duplicates[n.Channel]++
		return nil
	}
	if n.Created.IsZero() {
		n.Created = o.opt.Now()
	}
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.seq++
	path := filepath.Join(o.dir, "pending", fmt.Sprintf("%012d-%s.json", o.seq, key(n.ID)))
	if err := writeFileSync(path+".tmp", data); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if n.Supersede != "" {
		for id, e := range o.pending {
			if e.N.Supersede != n.Supersede {
				continue
			}
			if e.busy {
				// Being sent: it cannot be recalled, but it must not be
				// retried after the newer state if this attempt fails.
				e.dropped = true
				continue
			}
			o.drop(id, e)
		}
	}
	o.pending[n.ID] = &entry{N: n, file: path}
	o.stats.Enqueued[n.Channel]++
	o.stats.Pending[n.Channel]++
	select {
	case o.wake[n.Channel] <- struct{}{}:
	default:
	}
	return nil
}

// drop forgets a superseded pending entry; o.mu held.
func (o *Outbox) drop(id string, e *entry) {
	delete(o.pending, id)
	o.stats.Pending[e.N.Channel]--
	os.Remove(e.file)
}

// due returns the channel's entries due at now, oldest first, marked busy. Order
// is kept per address (To): an entry is not released while an older pending one
// for the same address is being sent or waits for its retry.
func (o *Outbox) due(channel string, now time.Time) []*entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	var all []*entry
	for _, e := range o.pending {
		if e.N.Channel == channel {
			all = append(all, e)
		}
	}
	slices.SortFunc(all, func(a, b *entry) int { return strings.Compare(a.file, b.file) })
	blocked := map[string]bool{}
	var out []*entry
	for _, e := range all {
		if blocked[e.N.To] {
			continue
		}
		if e.busy || e.next.After(now) {
			blocked[e.N.To] = true
			continue
		}
		e.busy = true
		out = append(out, e)
	}
	return out
}

// Flush tries every notification of channel that is due at now, oldest first, and
// returns how many were delivered. A failure delays that notification (backoff)
// and the ones after it on the same address, so that order is kept.
func (o *Outbox) Flush(ctx context.Context, channel string, now time.Time) int {
	s := o.senders[channel]
	if s == nil {
		return 0
	}
	o.maybePrune(now)
	n := 0
	failed := map[string]bool{}
	for _, e := range o.due(channel, now) {
		if failed[e.N.To] || ctx.Err() != nil {
			o.release(e, time.Time{})
			continue
		}
		err := s.Send(ctx, &e.N)
		if err != nil {
			if !o.fail(e, now, err) {
				failed[e.N.To] = true
			}
			continue
		}
		o.done(e, now)
		n++
	}
	return n
}

// FlushAll flushes every channel (tests and shutdown).
func (o *Outbox) FlushAll(ctx context.Context, now time.Time) int {
	n := 0
	for ch := range o.senders {
		n += o.Flush(ctx, ch, now)
	}
	return n
}

func (o *Outbox) release(e *entry, next time.Time) {
	o.mu.Lock()
	e.busy = false
	if e.dropped {
		o.drop(e.N.ID, e)
		o.mu.Unlock()
		return
	}
	if !next.IsZero() {
		e.next = next
	}
	o.mu.Unlock()
}

// fail records a failed attempt: e is retried after a backoff, or, refused for
// good or older than MaxAge, moved to the dead-letter directory. It reports
// whether e is gone (dead or superseded), so that it holds back nothing.
func (o *Outbox) fail(e *entry, now time.Time, err error) bool {
	o.mu.Lock()
	o.stats.Failures[e.N.Channel]++
	o.stats.LastError[e.N.Channel] = err.Error()
	if e.dropped {
		e.busy = false
		o.drop(e.N.ID, e)
		o.mu.Unlock()
		o.log.Info("superseded notification not delivered, dropped", "channel", e.N.Channel,
			"alert", e.N.AlertID, "err", err)
		return true
	}
	if perm, old := IsPermanent(err), !e.N.Created.IsZero() && now.Sub(e.N.Created) >= o.opt.MaxAge; perm || old {
		e.busy = false
		o.deadLetter(e)
		o.mu.Unlock()
		why := "refused for good"
		if !perm {
			why = "undelivered for " + o.opt.MaxAge.String()
		}
		o.log.Error("notification "+why+", moved to the dead-letter directory", "channel", e.N.Channel,
			"to", e.N.To, "alert", e.N.AlertID, "id", e.N.ID, "attempts", e.attempts+1, "err", err)
		return true
	}
	e.attempts++
	d := o.opt.MinBackoff << min(e.attempts-1, 20)
	if d > o.opt.MaxBackoff || d <= 0 {
		d = o.opt.MaxBackoff
	}
	e.busy, e.next = false, now.Add(d)
	attempts := e.attempts
	o.mu.Unlock()
	o.log.Warn("notification not delivered, will retry", "channel", e.N.Channel, "alert", e.N.AlertID,
		"attempts", attempts, "retry_in", d, "err", err)
	return false
}

// deadLetter moves e from pending to dir/dead; o.mu held.
func (o *Outbox) deadLetter(e *entry) {
	delete(o.pending, e.N.ID)
	o.stats.Pending[e.N.Channel]--
	o.stats.Dead[e.N.Channel]++
	dead := filepath.Join(o.dir, "dead")
	if err := os.MkdirAll(dead, 0o750); err == nil {
		err = os.Rename(e.file, filepath.Join(dead, filepath.Base(e.file)))
		if err == nil {
			return
		}
		o.log.Error("outbox: moving an entry to the dead-letter directory", "err", err)
	}
	os.Remove(e.file)
}

// maybePrune forgets, once per pruneEvery, the delivered IDs older than
// KeepDelivered and rewrites the delivered log without them.
func (o *Outbox) maybePrune(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if now.Sub(o.pruned) < pruneEvery || o.dlog == nil {
		return
	}
	o.pruned = now
	cutoff := now.Add(-o.opt.KeepDelivered)
	removed := 0
	for id, at := range o.delivered {
		if at.Before(cutoff) {
			delete(o.delivered, id)
			removed++
		}
	}
	if removed == 0 {
		return
	}
	var b strings.Builder
	for id, at := range o.delivered {
		fmt.Fprintf(&b, "%s %d\n", id, at.Unix())
	}
	path := filepath.Join(o.dir, "delivered.log")
	if err := writeFileSync(path+".tmp", []byte(b.String())); err != nil {
		o.log.Error("outbox: pruning the delivered log", "err", err)
		return
	}
	// Open the new log before it replaces the old one: on any error the old
	// one stays in use (and is pruned at the next Open).
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		o.log.Error("outbox: pruning the delivered log", "err", err)
		return
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		f.Close()
		o.log.Error("outbox: pruning the delivered log", "err", err)
		return
	}
	o.dlog.Close()
	o.dlog = f
}

func (o *Outbox) done(e *entry, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// Remember the ID first: a crash between the two leaves a file whose ID is
	// known as delivered, which loadPending removes.
	if o.dlog != nil {
		if _, err := fmt.Fprintf(o.dlog, "%s %d\n", e.N.ID, now.Unix()); err == nil {
			_ = o.dlog.Sync()
		} else {
			o.log.Error("outbox: recording a delivery", "err", err)
		}
	}
	o.delivered[e.N.ID] = now
	delete(o.pending, e.N.ID)
	os.Remove(e.file)
	o.stats.Delivered[e.N.Channel]++
	o.stats.Pending[e.N.Channel]--
	o.stats.LastError[e.N.Channel] = ""
}

// Run delivers until ctx is cancelled: one goroutine per channel, woken by
// Enqueue and every second for retries.
func (o *Outbox) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for ch := range o.senders {
		wake := o.wake[ch]
		wg.Go(func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				o.Flush(ctx, ch, o.opt.Now())
				select {
				case <-ctx.Done():
					return
				case <-wake:
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// Stats returns a copy of the counters.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	cp := func(m map[string]uint64) map[string]uint64 {
		out := make(map[string]uint64, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	s := Stats{Enqueued: cp(o.stats.Enqueued), Delivered: cp(o.stats.Delivered), Failures: cp(o.stats.Failures),
		Duplicates: cp(o.stats.Duplicates), Pending: cp(o.stats.Pending), Corrupt: o.stats.Corrupt, Dead: cp(o.stats.Dead),
		LastError: map[string]string{}}
	for k, v := range o.stats.LastError {
		s.LastError[k] = v
	}
	return s
}

// writeFileSync writes data to path and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
