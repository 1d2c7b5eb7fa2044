// Package notifier is the registry of target types: Types lists the
// Descriptor (router/notify) that each package router/notifier/<type>
// exports — lognotifier, webhook, slack, teams, pagerduty, opsgenie,
// email, statuspage — one line each, so adding a type is one package and
// one line.
//
// A Registry checks and builds targets. Check is a config.Check: it
// decodes each target's own YAML keys strictly into its type's settings,
// resolves their secrets, validates them and the target's http_config, and
// fills the type's defaults (its rate limit). Build compiles the message
// templates (the types' own defaults included) and builds every target's
// notifier, an HTTP one with a client of its own when it has http_config.
// check-config, serve and a reload all go through it, so what passes the
// check starts.
package notifier
