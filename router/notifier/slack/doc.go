// Package slack posts messages to a Slack incoming webhook
// (https://hooks.slack.com/services/T…/B…/…) with Block Kit layout and a
// plain "text" fallback for notifications.
//
// Pages and info messages show the incident (severity, service, status,
// role, runbook) with an Acknowledge link button; acknowledgements and
// resolutions are short follow-up messages. No "channel" is sent: an
// app's incoming webhook is bound to one channel and may reject it.
//
// Slack answers 200 with the body "ok" on success and a plain-text error
// code otherwise. 429 (with Retry-After) and 5xx are temporary; every
// other answer is permanent, with reason auth for revoked or invalid
// webhooks (no_service, invalid_token, no_team, team_disabled,
// no_active_hooks, action_prohibited, 401, 403) and client for the rest
// (channel_not_found, channel_is_archived, invalid_payload, …).
//
// The webhook URL is the credential: errors and logs show only
// https://hooks.slack.com/services/<redacted>.
package slack
