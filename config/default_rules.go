package config

import "strings"

// Categories is the vocabulary of the default rules' categories, the
// values an alert's own `category` label may take to classify itself.
var Categories = []string{
	"outage", "security", "payment", "auth", "degradation", "performance",
	"database", "feature", "monitoring", "cosmetic", "enhancement", "docs",
}

// keywordCategory attaches a category to alerts whose alertname, title or
// service mentions one of its keywords as a word.
type keywordCategory struct {
	category string
	keywords []string
}

// defaultCategories are tried in order; the first that matches sets the
// category, so an alert about "payments-db down" is a payment alert.
var defaultCategories = []keywordCategory{
	{"security", []string{"breach", "intrusion", "unauthorized", "unauthorised"}},
	{"payment", []string{"payment", "billing", "checkout"}},
	{"auth", []string{"auth", "authentication", "login", "sso", "oauth"}},
	{"database", []string{"postgres", "postgresql", "mysql", "mariadb", "database", "db", "replication"}},
	{"outage", []string{"down", "outage", "unavailable", "unreachable"}},
	{"degradation", []string{"degraded", "degradation"}},
	{"performance", []string{"latency", "slow", "error rate", "response time", "performance"}},
	{"cosmetic", []string{"typo", "cosmetic"}},
	{"docs", []string{"docs", "documentation"}},
	{"enhancement", []string{"enhancement", "feature request"}},
	{"feature", []string{"feature"}},
	{"monitoring", []string{"monitoring", "watchdog", "prometheus", "alertmanager", "scrape", "exporter"}},
}

// failureWords say a payment or authentication system is failing, not
// merely slow.
var failureWords = []string{"down", "outage", "unavailable", "unreachable", "failure", "failed", "failing"}

// Matchers the default rules share.
const (
	noCategory     = `category=""`
	notWarnOrInfo  = `severity!~"(?i)warning|info"`
	criticalSystem = `category=~"payment|auth"`
)

// defaultRules classifies alerts the way the seed's severity table reads.
// Rules are tried in order; the enrichment rules continue, the first
// severity rule that matches ends the search.
//
// Conventions the defaults read:
//   - category: an alert's own `category` label wins (vocabulary in
//     Categories); otherwise keywords in the alertname, title or service,
//     matched as words (CamelCase and snake_case split, case-insensitive,
//     plural "s" allowed: "PostgresDown", "payments-api", "HighLatency";
//     never "feedback" for db or "cooldown" for down);
//   - the sender's conventional `severity` label: critical, error/high,
//     warning, info; a literal P0–P3 is an explicit level and wins;
//   - the affected-users percentage (label or annotation
//     `affected_users_pct`, or a numeric `impact`): more than 50% makes any
//     alert not yet P0 a P1 (cosmetic, enhancement and docs aside); 50% or
//     less makes a performance or degradation alert P2.
//
// The rules, in order ("sev" is the severity label; severity rules stop
// at the first match):
//
//	category-<c> (12)            no category yet, a keyword of <c>          category <c>, continue
//	runbook-database             category database                          runbook database, continue
//	runbook-service-outage       category outage, payment or auth           runbook service-outage, continue
//	runbook-performance          category performance or degradation        runbook performance, continue
//	explicit-p0 … explicit-p3    sev is literally P0 … P3                   that level
//	security-incident            category security                          P0
//	probe-down-critical-service  failing health check, payment or auth      P0
//	probe-down                   failing health check                       P1, category outage
//	service-outage               category outage, sev not warning/info      P0
//	payment-auth-failure         payment or auth, a failure word,           P0
//	                             sev not warning/info
//	payment-auth-critical        payment or auth, sev critical              P0
//	database-connectivity        category database, sev not warning/info    P1
//	users-majority               impact > 50%, not cosmetic/enhancement/docs P1
//	users-minority               performance or degradation, impact ≤ 50%   P2
//	partial-degradation          category degradation, sev not warning/info P1
//	performance-severe           category performance, sev critical/error/high P1
//	minor-issue                  category feature or monitoring             P2
//	low-priority                 category cosmetic, enhancement or docs     P3
//	severity-critical … -info    sev critical, error/high, warning, info    P0, P1, P2, P3
//	default                      anything else ("monitoring alerts")        P2
func defaultRules() []Rule {
	rules := make([]Rule, 0, 40)
	for _, kc := range defaultCategories {
		rules = append(rules, Rule{
			Name:     "category-" + kc.category,
			Match:    []string{noCategory},
			Keywords: kc.keywords,
			Category: kc.category,
			Continue: true,
		})
	}
	rules = append(rules,
		Rule{Name: "runbook-database", Match: []string{`category="database"`}, Runbook: "database", Continue: true},
		Rule{Name: "runbook-service-outage", Match: []string{`category=~"outage|payment|auth"`}, Runbook: "service-outage", Continue: true},
		Rule{Name: "runbook-performance", Match: []string{`category=~"performance|degradation"`}, Runbook: "performance", Continue: true},
	)
	for _, p := range []string{"P0", "P1", "P2", "P3"} {
		rules = append(rules, Rule{Name: "explicit-" + strings.ToLower(p), Match: []string{`severity=~"(?i)` + p + `"`}, Severity: p})
	}
	impact := []string{`category=~"performance|degradation"`}
	return append(rules,
		Rule{Name: "security-incident", Match: []string{`category="security"`}, Severity: "P0"},
		Rule{Name: "probe-down-critical-service", Match: []string{`source_type="healthcheck"`, criticalSystem}, Severity: "P0"},
		Rule{Name: "probe-down", Match: []string{`source_type="healthcheck"`}, Severity: "P1",
			Category: "outage", Runbook: "service-outage"},
		Rule{Name: "service-outage", Match: []string{`category="outage"`, notWarnOrInfo}, Severity: "P0"},
		Rule{Name: "payment-auth-failure", Match: []string{criticalSystem, notWarnOrInfo}, Keywords: failureWords, Severity: "P0"},
		Rule{Name: "payment-auth-critical", Match: []string{criticalSystem, `severity=~"(?i)critical"`}, Severity: "P0"},
		Rule{Name: "database-connectivity", Match: []string{`category="database"`, notWarnOrInfo}, Severity: "P1"},
		Rule{Name: "users-majority", Match: []string{`category!~"cosmetic|enhancement|docs"`}, When: "impact_known && impact > 50", Severity: "P1"},
		Rule{Name: "users-minority", Match: impact, When: "impact_known", Severity: "P2"},
		Rule{Name: "partial-degradation", Match: []string{`category="degradation"`, notWarnOrInfo}, Severity: "P1"},
		Rule{Name: "performance-severe", Match: []string{`category="performance"`, `severity=~"(?i)critical|error|high"`}, Severity: "P1"},
		Rule{Name: "minor-issue", Match: []string{`category=~"feature|monitoring"`}, Severity: "P2"},
		Rule{Name: "low-priority", Match: []string{`category=~"cosmetic|enhancement|docs"`}, Severity: "P3"},
		Rule{Name: "severity-critical", Match: []string{`severity=~"(?i)critical"`}, Severity: "P0"},
		Rule{Name: "severity-high", Match: []string{`severity=~"(?i)error|high"`}, Severity: "P1"},
		Rule{Name: "severity-warning", Match: []string{`severity=~"(?i)warning"`}, Severity: "P2"},
		Rule{Name: "severity-info", Match: []string{`severity=~"(?i)info"`}, Severity: "P3"},
		Rule{Name: "default", Severity: "P2"},
	)
}

// defaultInhibit is Alertmanager's classic inhibition, by priority: while
// a service has an open P0 incident, its P1–P3 alerts do not page.
func defaultInhibit() []InhibitRule {
	return []InhibitRule{{
		Name:           "p0-mutes-lower-priorities",
		SourceMatchers: []string{`priority="P0"`},
		TargetMatchers: []string{`priority=~"P1|P2|P3"`},
		Equal:          []string{"service"},
	}}
}
