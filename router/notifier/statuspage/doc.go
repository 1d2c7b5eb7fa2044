// Package statuspage mirrors incidents on an Atlassian Statuspage page
// through the REST API v1 (https://api.statuspage.io/v1), authenticated
// with "Authorization: OAuth <api key>".
//
// The notifier is a notify.Referencer: the first page or info message of
// an incident opens a Statuspage incident
// (POST /v1/pages/{page_id}/incidents) and Deliver returns its id, which
// later messages carry in Message.Ref. Those update it
// (PATCH /v1/pages/{page_id}/incidents/{id}):
//
//   - info: a status update with the message text, status "investigating"
//     while the incident is triggered, "identified" once acknowledged and
//     "resolved" after resolution;
//   - acknowledge: status "identified", "Acknowledged — the team is
//     working on it.";
//   - resolve: status "resolved" with the resolution text, and the
//     configured components back to "operational".
//
// Created incidents carry the incident title as name (≤255 runes), the
// message text as body (≤25000 runes), an impact override from the
// severity (P0 critical, P1 major, P2 minor, P3 none), the configured
// components with a status from the severity (P0 major_outage,
// P1 partial_outage, P2 and P3 degraded_performance), notifications on,
// and metadata {"alertgate": {"incident", "dedup_key"}}.
//
// Nothing is sent for an acknowledgement or resolution of an incident
// never opened here, for a page of an incident already opened here (the
// status page is public: repeated pages add nothing to it), nor for
// tickets.
//
// Statuspage has no idempotency key: a create whose answer was lost and
// is retried opens a second incident; the metadata names the alertgate
// incident so one can tell. 2xx answers succeed. Statuspage rejects
// requests over its rate limit (1 request/second per token) with 420 or
// 429; both are temporary rate_limited failures, Retry-After honoured.
// Other answers follow notify.ClassifyResponse. The API key never
// appears in errors or logs, even when the service echoes the request.
package statuspage
