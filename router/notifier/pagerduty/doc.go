// Package pagerduty sends messages to the PagerDuty Events API v2
// (POST https://events.pagerduty.com/v2/enqueue).
//
// A page becomes a trigger event, an acknowledgement an acknowledge
// event and a resolution a resolve event, all with the same dedup_key
// (Message.DedupKey), so a retried trigger never opens a second alert and
// the acknowledge and resolve find the one it opened. Info messages are
// not sent: PagerDuty only gets pages and their follow-ups.
//
// Triggers carry summary (≤1024 runes), source (the incident's service,
// else "alertgate"), severity (P0 critical, P1 error, P2 warning, P3
// info), timestamp (incident opened), component (service), group
// (category), class (the alertname label), custom_details (incident,
// role, step, labels, runbook, alert counts and up to 20 alerts; cut
// down when the event would pass 512 KB), links (acknowledge, incident,
// runbook) and client/client_url. Acknowledge and resolve events carry
// only routing_key, dedup_key and event_action.
//
// PagerDuty answers 202. 429 and 5xx are retried (Retry-After honoured
// when sent; PagerDuty suggests backing off for minutes), 400 is
// permanent. The routing key is the credential: it never appears in
// errors or logs.
package pagerduty
