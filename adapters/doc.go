// Package adapters decodes the webhook bodies alertgate receives into
// normalized alerts. Each wire format has one Decoder, chosen by the
// source's type in New:
//
//   - alertmanager: Alertmanager's webhook (version 4) and API v2 alert
//     arrays (alertmanager.go);
//   - grafana: Grafana unified alerting (version 1) and legacy alerting
//     webhooks (grafana.go);
//   - healthcheck: the native probe format, Uptime Kuma, Gatus and
//     Healthchecks.io, told apart by their shape (healthcheck.go);
//   - generic: any JSON mapped by GJSON paths from the config (generic.go).
//
// Decoders are pure: no clock (except the injected one that dates API v2
// alerts), no I/O, and they never retain the request body, which fasthttp
// reuses. Every alert gets Source, SourceType, a status and a fingerprint;
// the source's labels are merged under the alert's own. A body that cannot
// be decoded gives an error wrapping ErrBadPayload whose text names the
// offending field, e.g. "bad payload: alerts[2].labels: got string, want
// object".
//
// A body's lists are counted before anything is decoded (at most
// MaxAlerts elements each), and every string of an alert is made valid
// UTF-8 without NUL (text.go). Limits, applied by the server after
// decoding, bound label counts, names and value sizes.
package adapters
