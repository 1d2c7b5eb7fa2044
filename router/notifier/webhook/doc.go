// Package webhook delivers messages as JSON to any HTTP endpoint.
//
// # Request
//
//	POST <url>
//	Content-Type: application/json
//	User-Agent: alertgate/<version>
//	Idempotency-Key: <message idempotency key>
//	X-Alertgate-Timestamp: <unix seconds>            (when a secret is set)
//	X-Alertgate-Signature: sha256=<hex>              (when a secret is set)
//	<configured headers>
//
// The body is the notify.Message as JSON with a "version" field, version
// "1" (see Payload):
//
//	{"version":"1","kind":"page","idempotency_key":"…","dedup_key":"…",
//	 "incident":{"id":"INC-7","severity":"P0","status":"triggered","title":"…",
//	   "service":"checkout","category":"…","runbook":"…","group_key":"…","source":"…",
//	   "alert_count":1,"firing_count":1,"opened_at":"…","ack_due":"…","resolve_due":"…","updated_at":"…"},
//	 "role":"oncall","step":"oncall#0","channel":"…","summary":"[P0] INC-7 …","text":"…",
//	 "ack_url":"…","incident_url":"…",
//	 "runbook":{"name":"…","title":"…","url":"…","steps":["…"]},
//	 "labels":{"…":"…"},"alerts":[{"fingerprint":"…","status":"firing","title":"…",…}],
//	 "at":"2026-01-02T03:04:05Z"}
//
// Fields may be added within version 1; receivers should ignore unknown
// ones. A retry of the same delivery sends the same Idempotency-Key:
// receivers should treat a key they have seen as done and answer 2xx.
//
// # Answers
//
// Any 2xx is success. 429 and 5xx are retried (Retry-After honoured), as
// are network errors and timeouts; 401/403 and other 4xx are permanent.
//
// # Verifying the signature
//
// With a secret configured, the signature is HMAC-SHA256 keyed by the
// secret over "<timestamp>.<raw body>", hex-encoded and prefixed with
// "sha256=". A receiver should:
//
//  1. read the raw body bytes before parsing them;
//  2. recompute the MAC over X-Alertgate-Timestamp + "." + body and compare
//     it with X-Alertgate-Signature in constant time;
//  3. reject timestamps more than a few minutes from its own clock, so a
//     captured request can't be replayed later, and within that window
//     drop repeated Idempotency-Keys.
//
// Verify does all three checks but the last for Go receivers.
package webhook
