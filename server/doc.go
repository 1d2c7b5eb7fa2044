// Package server is alertgate's HTTP layer (fiber v2) and the one place
// where errors become HTTP status codes.
//
// Routes (the README's API table describes each; optional ones exist when
// their dependency is wired, as NewGateway wires all of them):
//
//	POST   /api/v1/alerts/{source}               ingest (per-source auth)
//	GET    /api/v1/incidents                     ?status=&severity=&service=&q=&limit= (read)
//	GET    /api/v1/incidents/{id}                INC-7 or 7, with alerts and timeline (read)
//	GET    /api/v1/incidents/{id}/postmortem     the post-mortem draft, markdown (read)
//	GET    /api/v1/incidents/{id}/plan           pending escalation steps and deliveries (read)
//	POST   /api/v1/incidents/{id}/ack            {"actor":"alice","note":"..."} (API token)
//	POST   /api/v1/incidents/{id}/resolve        same body (API token)
//	POST   /api/v1/incidents/{id}/severity       raise or lower an open incident (API token)
//	POST   /api/v1/incidents/{id}/updates        a status update (API token)
//	GET    /api/v1/oncall                        who every role pages now and next (read)
//	POST   /api/v1/oncall/overrides              an on-call override (API token)
//	DELETE /api/v1/oncall/overrides/{id}         (API token)
//	GET    /api/v1/deliveries                    ?state=dead|pending|running|done|cancelled (read)
//	POST   /api/v1/deliveries/{id}/retry         requeue a dead letter (API token)
//	GET    /api/v1/silences                      (read)
//	POST   /api/v1/silences                      (API token)
//	DELETE /api/v1/silences/{id}                 (API token)
//	GET    /api/v1/alerts                        ?state=suppressed (read)
//	GET    /api/v1/replicas                      live gateway processes on the database (read)
//	POST   /api/v1/webhooks/pagerduty            PagerDuty webhook v3 (its signature)
//	GET    /ack/{token}                          one-click link: HTML confirm page, changes nothing (link token)
//	POST   /ack/{token}                          one-click link: acknowledge or resolve, form field actor (link token)
//	POST   /-/reload                             read the config file again (API token)
//	GET    /healthz, /-/healthy                  200 "ok" while the process serves (open)
//	GET    /readyz, /-/ready                     200 "ok" when storage answers a ping, else 503 (open)
//	GET    /metrics                              Prometheus exposition of Deps.Registry (open)
//	GET    /debug/pprof/...                      with server.pprof only (API token)
//	GET    /, /incidents/{id}, /silences, /oncall, /deliveries, /about, /console/...
//	                                             the web console (package console, Deps.Console)
//
// "(read)" is the API token unless server.public_reads.
//
// Every error answer is JSON {"error": "<reason>"}. The mapping, in toHTTP:
// a bad payload (adapters.ErrBadPayload), an alert over the configured
// adapters.Limits, store.ErrInvalid (text the database refuses) or a bad
// parameter is 400; missing
// or wrong credentials 401 with WWW-Authenticate; an unknown source or
// incident 404; store.ErrConflict 409; a body over max_body_bytes 413
// (the connection is drained before it closes, so the client reads the
// 413 rather than a reset); a compressed body 415; store.ErrUnavailable, a
// deadline, or a body that would pass max_decoding_bytes (the bytes of
// ingest bodies decoded at once) 503 with
// Retry-After, so Alertmanager retries (a transient problem is never a
// 4xx, which Alertmanager would not retry); anything else 500 with the
// details logged, not sent. A panic in a handler or dependency is one 500.
//
// Ingest answers 2xx only after the Ingester committed the batch. Each
// source authenticates on its own (config.Auth): open; a bearer token;
// basic auth (bearer and basic together accept either); and/or an
// HMAC-SHA256 signature of the raw body in a header (default
// X-Signature-256, hex, optional "sha256=" prefix), covering
// "<timestamp>:<body>" when a timestamp header is configured (Grafana's
// scheme), with the timestamp within max_skew (default 5m) of now.
// Secrets are compared in constant time and never logged. A signed
// request can be replayed within max_skew; there is no nonce cache.
//
// With server.api_token set, the API's writes and reads require
// "Authorization: Bearer <token>" (incidents carry alert labels);
// server.public_reads opens the reads. Without a token everything is
// open, which config.Exposure allows only on a loopback address.
//
// The one-click links (Deps.AckLinks) need no API token: the signed,
// expiring token in the path grants one action on one incident. They
// answer HTML (400 invalid, 410 expired, 404, 409 already resolved) with
// Cache-Control: no-store, X-Frame-Options: DENY and a Content-Security-
// Policy that allows no external resource; their handlers never log the
// token.
//
// The source table can be swapped at run time for a config reload: a
// Gateway keeps it in its one generation with the router's targets and
// the store's rules (Deps.Sources), a server on its own swaps it with
// SetSources; requests in flight keep the table they started with.
package server
