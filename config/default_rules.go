package config

import "fmt"

// keywordCategory attaches a category and runbook to alerts whose
// alertname, title or service mentions one of its keywords.
type keywordCategory struct {
	category string
	runbook  string
	keywords string // regexp alternation, matched case-insensitively
}

// defaultCategories are tried in order; the first that matches sets the
// category and runbook.
var defaultCategories = []keywordCategory{
	{category: "database", runbook: "database", keywords: "postgres|mysql|database|db|replication|sql"},
	{category: "performance", runbook: "performance", keywords: "latency|slow|cpu|memory|load|performance"},
	{category: "outage", runbook: "service-outage", keywords: "down|outage|unavailable|unreachable|probe|health"},
}

// keywordFields are the alert fields the keyword rules look at.
var keywordFields = []string{"alertname", "title", "service"}

// defaultRules classifies alerts the way the seed's severity table reads:
//
//  1. enrichment rules (continue: true) attach a category and runbook by
//     keywords, one rule per category and field because matchers are ANDed;
//  2. Alertmanager's conventional severity label maps to P0–P3
//     (critical → P0, error/high → P1, warning → P2, info → P3; the
//     levels' own names P0–P3 are accepted too);
//  3. failing health-check probes are P1 outages (an endpoint is down);
//  4. everything else is P2 ("Monitoring alerts").
//
// Regex matchers are anchored like Alertmanager's, hence the ".*" around
// the keywords.
func defaultRules() []Rule {
	var rules []Rule
	for _, kc := range defaultCategories {
		for _, field := range keywordFields {
			rules = append(rules, Rule{
				Name:     fmt.Sprintf("category-%s-by-%s", kc.category, field),
				Match:    []string{fmt.Sprintf(`%s=~"(?i).*(%s).*"`, field, kc.keywords)},
				Category: kc.category,
				Runbook:  kc.runbook,
				Continue: true,
			})
		}
	}
	return append(rules,
		Rule{Name: "severity-critical", Match: []string{`severity=~"(?i)critical|p0"`}, Severity: "P0"},
		Rule{Name: "severity-high", Match: []string{`severity=~"(?i)error|high|p1"`}, Severity: "P1"},
		Rule{Name: "severity-warning", Match: []string{`severity=~"(?i)warning|p2"`}, Severity: "P2"},
		Rule{Name: "severity-info", Match: []string{`severity=~"(?i)info|p3"`}, Severity: "P3"},
		Rule{Name: "probe-failure", Match: []string{`source_type="healthcheck"`}, Severity: "P1",
			Category: "outage", Runbook: "service-outage"},
		Rule{Name: "default", Severity: "P2"},
	)
}
