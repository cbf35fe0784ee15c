package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// liveness is the gateway as the service manager's watchdog sees it.
type liveness interface {
	// Alive returns when the gateway's ticker last ran; zero before it started.
	Alive() time.Time
}

// notifySystemd speaks the sd_notify protocol when the unit is Type=notify (it does
// nothing when NOTIFY_SOCKET is unset): READY=1 once the gateway's ticker runs —
// the spool is open and the checks are ticking — then WATCHDOG=1 every half
// watchdog interval for as long as the ticker keeps running, and STOPPING=1 when ctx
// ends. A gateway whose ticker stops (a wedged disk, a deadlock) stops pinging and
// systemd restarts it after WatchdogSec.
func notifySystemd(ctx context.Context, g liveness, log *slog.Logger) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog settings unreadable", "err", err)
	}
	poll := time.Second
	if interval > 0 {
		poll = min(poll, interval/2)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	ready := false
	var lastPing time.Time
	for {
		select {
		case <-ctx.Done():
			if ready {
				_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
			}
			return
		case <-t.C:
		}
		alive := g.Alive()
		if alive.IsZero() {
			continue
		}
		if !ready {
			sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
			if err != nil {
				log.Warn("telling systemd the gateway is ready", "err", err)
			}
			if !sent { // not under systemd's notify protocol
				return
			}
			ready = true
		}
		if interval > 0 && time.Since(alive) < interval/2 && time.Since(lastPing) >= interval/2 {
			if _, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog); err != nil {
				log.Warn("pinging the systemd watchdog", "err", err)
			}
			lastPing = time.Now()
		}
	}
}
