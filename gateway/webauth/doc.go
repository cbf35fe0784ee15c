// Package webauth is the one login stack of Saqshy's web pages, shared by the
// gateway's status page (gateway/status) and the ministry's monitoring room
// (gateway/central/web): bcrypt password checks with a dummy hash at the users' cost
// for unknown names, in-memory sessions, CSRF tokens (per-session, double-submit and
// HMAC-signed cookie), a failed-login limiter that counts an attempt before the hash
// is checked, per client address (taken from a trusted reverse proxy's header when
// configured), and the checks on a login's redirect target and a request's origin.
//
// It imports nothing of the gateway's pipeline and nothing of the central side.
package webauth
