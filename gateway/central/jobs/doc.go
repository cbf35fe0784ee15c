// Package jobs holds the monitoring room's background work: the silent-gateway
// watch (a centre whose heartbeats stop raises a central alert, kept across
// restarts), the daily report's composition, and the central notifications (a
// signed webhook and the gateway's e-mail and Telegram channels from
// gateway/alert/notify). It reads data through gateway/central/store only; it
// imports nothing of the gateway's pipeline and nothing of gateway/central/web.
package jobs
