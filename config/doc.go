// Package config holds alertgate's configuration: the YAML file's types,
// the defaults that encode the incident response procedures, Load and
// Validate. It is a leaf: other packages convert it once into their own
// runtime types.
//
// # File layout
//
// The file is a mapping of sections, all optional:
//
//	server:        listen address, external URL, API token, body limit, timeouts
//	log:           level (debug|info|warn|error) and format (json|console)
//	storage:       driver sqlite (path) or postgres (dsn)
//	sources:       inbound webhooks, POST /api/v1/alerts/{name}: type, auth, mapping
//	severities:    P0..P3: name, response and resolution targets, update cadence
//	rules:         ordered classification rules (Alertmanager matchers), tried before the default rules
//	default_rules: false: the file's rules are all the rules
//	dedup:         group_by labels, the reopen window and flapping hysteresis
//	roles:         escalation roles and the targets that page them
//	escalation:    the matrix (one row per role, one cell per severity) and digest times
//	targets:       outbound integrations: log, webhook, slack, teams, pagerduty, opsgenie, statuspage, email
//	communication: internal channels per severity and the external status page
//	runbooks:      named procedures that rules, or their own match, attach to incidents
//
// config/example.yml is a complete commented example; `alertgate config
// default` prints the defaults.
//
// # Defaults and how a file combines with them
//
// Default returns the seed procedures. Load decodes the file on top of
// them one top-level section at a time, so that a small change stays
// small:
//
//   - a section the file leaves out keeps its defaults entirely;
//   - rules: the file's rules are tried first, then the default rules (a
//     file rule named like a default rule replaces it), unless
//     default_rules is false;
//   - roles, targets, runbooks: an entry the file gives replaces that one
//     entry (same role or name); the other defaults stay;
//   - sources, silences, maintenance, inhibit: exactly the file's list;
//   - a struct section the file gives (server, log, storage, severities,
//     dedup, escalation, communication) is decoded into a copy of its
//     default, so keys it leaves out keep their defaults, down to nested
//     structs (severities.P0.response alone changes only that value); lists
//     inside it, such as escalation.matrix or communication.channels, are
//     replaced whole;
//   - a key with no value keeps the default of a struct and empties a
//     replaced list; write [] or {} to say "none" explicitly.
//
// A key given twice in one mapping is reported as such and nothing else
// is checked until it is fixed (yaml.v3 would skip the whole mapping).
//
// The target named log (type log: pages go to the gateway's own log) is
// built in and always exists: Load adds it when the file's targets don't
// define it, so the default roles and channels stay valid when a file
// replaces targets. A file may define its own target named log.
//
// After decoding, Load resolves secrets, fills per-item defaults (target
// timeout 10s, retry 8 attempts with 2s..5m backoff, breaker 5 failures
// open for 30s, HMAC header X-Signature-256) and validates.
//
// # Targets
//
// config knows the keys every target has (name, type, timeout, retry,
// breaker, rate_limit, fallback, templates, http_config). The keys of its
// type (url, routing_key, smtp …) belong to the type's package,
// router/notifier/<type>: Load keeps them as written, and the target
// registry (router/notifier.Check, a Check that serve, reload and
// check-config pass to Load) decodes them strictly into Target.Settings
// with DecodeSettings, checks them and fills the type's defaults. config
// imports none of those packages.
//
// # Secrets
//
// Fields of type Secret (server.api_token, server.ack_link_secret,
// storage.dsn, source auth
// bearer_token, basic.password and hmac.secret, and every Secret of a
// target type's settings: url, routing_key, api_key, secret …) may hold
// the value, ${ENV_VAR} references expanded from the
// environment at load (an unset variable is an error), or be read from the
// sibling *_file key (relative paths start at the config file's folder; a
// trailing newline is dropped). Setting both a secret and its *_file is an
// error. Secrets print as <secret> in YAML, JSON and fmt output, and no
// error message contains one.
//
// # Errors
//
// Load reports every problem it finds, not just the first, each naming the
// file, the line when the key is in the file, and the key:
//
//	alertgate.yml:12: unknown key "listn" in server
//	alertgate.yml:30: targets[2] (pagerduty-main): routing_key (or routing_key_file) is required (with the target check)
package config
