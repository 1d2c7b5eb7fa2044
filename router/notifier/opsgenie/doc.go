// Package opsgenie sends pages to the Opsgenie Alert API v2
// (https://api.opsgenie.com, or https://api.eu.opsgenie.com for the EU
// region), authenticated with "Authorization: GenieKey <api key>".
//
// A page creates an alert (POST /v2/alerts) whose alias is
// Message.DedupKey (its SHA-256 hex when longer than 512 bytes), so
// Opsgenie keeps one alert per incident: a retried or repeated page only
// bumps the open alert's count. An acknowledgement acknowledges and a
// resolution closes that alert by alias
// (POST /v2/alerts/{alias}/acknowledge|close?identifierType=alias).
//
// Created alerts carry message (the summary, ≤130 runes), description
// (the text, ≤15000 runes), the configured responders, tags (severity,
// "alertgate", service, category), details (incident, severity, role,
// step, service, category, runbook, ack and incident URLs, idempotency
// key), entity (service), source "alertgate", priority (P0→P1, P1→P2,
// P2→P3, P3→P4) and a note naming the role and step paged.
//
// Info and ticket messages are not sent: Opsgenie is for paging, and
// channel chatter would open alerts that page people.
//
// Opsgenie answers 202 (the work is queued). 429 and 5xx are retried
// (Retry-After honoured when sent), 401 and 403 are permanent auth
// failures and other 4xx permanent client failures. The API key never
// appears in errors or logs, even when the service echoes the request.
package opsgenie
