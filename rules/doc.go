// Package rules decides, for every alert, its severity (P0–P3), category,
// runbook and group key, and whether it pages at all. It is pure logic: no
// I/O, and every time comes from the caller.
//
// # Classification
//
// New compiles the config's ordered rules once. A rule matches when all of
// its conditions hold:
//
//   - match: Alertmanager label matchers (`service=~"pay.*"`, parsed by
//     Alertmanager's own parser) over the alert's labels plus the fields
//     source, source_type, title, description, service, severity (the
//     sender's severity word) and status; labels win on a clash, and
//     "category" is the category earlier rules decided, else the label.
//     Regexes that are only a list of literals (`(?i)critical|p0`) are
//     matched by string comparison, with the regexp's exact semantics;
//   - keywords: one of the words or phrases occurs in the alertname, title
//     or service, split into words at punctuation and CamelCase
//     ("PostgresDown" has "down"; "cooldown" has not), case-insensitive, a
//     plural "s" allowed;
//   - when: an expr-lang expression over Env (impact_known && impact > 50),
//     compiled at New with at most 256 nodes, no loops and a memory budget.
//     An evaluation error counts as "no match" and shows in Explain's trace.
//
// A matching rule fills what is still unset (severity, category, runbook,
// group_by) and adds its labels; the first match without continue ends the
// search. Without a severity rule the alert is DefaultSeverity; without a
// category rule its category is its own `category` label.
//
// Evaluate is the hot path (about 1 µs and a few allocations with the
// default rules); Explain is the same decision with a Trace of every rule
// tried, for `alertgate explain` and the API.
//
// # Suppression
//
// Suppress checks an evaluated alert against silences, recurring
// maintenance windows (weekdays and a time range in a time zone, DST-safe,
// over midnight when the end is before the start) and Alertmanager-style
// inhibit rules, whose matchers also see the decided severity as
// "priority". The store supplies the stored silences and the open
// incidents that may inhibit.
//
// # Rule tests
//
// LoadTests and RunTests run YAML rule test files (see TestFile) for
// `alertgate test-rules`.
package rules
