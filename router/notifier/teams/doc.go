// Package teams posts messages to a Microsoft Teams channel through a
// Workflows (Power Automate "When a Teams webhook request is received")
// webhook, the replacement for the retired Office 365 connectors.
//
// Workflows accept Adaptive Cards only. The body is the envelope
// Alertmanager's msteamsv2 notifier sends: a "message" with one
// application/vnd.microsoft.card.adaptive attachment holding an
// AdaptiveCard 1.2 at full width. Pages and info messages show the
// incident (severity, service, status, role or channel, step, text,
// alerts, runbook) with Acknowledge, View incident and Runbook buttons;
// acknowledgements and resolutions are short follow-up cards titled
// "Acknowledged: …" and "Resolved: …". The title is red (Attention) while
// the incident is triggered, yellow (Warning) once acknowledged and green
// (Good) when resolved.
//
// Teams rejects messages over 28 KB: Build shortens the text, the alert
// list and the runbook steps until the encoded body fits MaxBodyBytes.
// Text is shown as Teams renders it (a Markdown subset); it is not
// escaped.
//
// Any 2xx answer is success (Workflows answers 202 Accepted). 429 (with
// Retry-After) and 5xx are temporary; other answers (400 bad payload, 404
// unknown flow, 413 too large, …) are permanent.
//
// The webhook URL carries its credential in the sig query parameter:
// errors and logs show only the host and "<redacted>".
package teams
