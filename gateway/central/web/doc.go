// Package web is the monitoring room's web app: the login (gateway/webauth), the
// overview of every centre, a centre's page with its charts, the monthly rating's
// export, the daily reports' pages, in Russian, Kazakh and English. It reads the
// data through gateway/central/store and is handed the gateway states and the kept
// reports through small interfaces (the jobs satisfy them); it imports nothing of
// the gateway's pipeline and nothing of gateway/central/jobs or monitor.
package web
