package rules

import (
	"strings"
	"testing"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// FuzzRuleConfig feeds arbitrary matchers, keywords and expressions
// through config validation and New, as check-config does: they never
// panic, a bad one is an error naming the rule, and a good one evaluates
// (and explains) without panicking.
func FuzzRuleConfig(f *testing.F) {
	seeds := [][3]string{
		{`service=~"pay.*"`, "impact_known && impact > 50", "payment"},
		{`severity!~"(?i)warning|info"`, `title matches "(?i)time(out)?"`, "error rate"},
		{`x=~"("`, "impact >", ""},
		{`a="b`, `labels["a"] == nil`, "--"},
		{`{a="b"}`, `1 / int(labels.n) > 0`, "db"},
		{`category=""`, `all(1..1000000, # > 0)`, ""},
		{`a=~"(?i)K"`, `let x = title; x + x == ""`, "K"},
		{"", `lower(severity) in ["critical", "p0"] || icontains(description, "disk")`, "ÜBER"},
		{`priority="P0"`, `len(1..100000) > 0`, ""},
		{`x=~"\\"`, `"a" contains`, ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	a := am(map[string]string{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical", "n": "0"})
	a.Description = "disk is full"
	a.Impact = alert.Impact{AffectedUsersPct: 60, Known: true}
	f.Fuzz(func(t *testing.T, match, when, keyword string) {
		r := config.Rule{Name: "fuzzed", When: when, Severity: "P1"}
		if match != "" {
			r.Match = []string{match}
		}
		if keyword != "" {
			r.Keywords = []string{keyword}
		}
		cfg := config.Default()
		cfg.Rules = append([]config.Rule{r}, cfg.Rules...)
		if err := cfg.Validate(); err != nil {
			if !strings.Contains(err.Error(), "rules[0] (fuzzed)") {
				t.Fatalf("validation error does not name the rule: %v", err)
			}
			return
		}
		e, err := New(cfg)
		if err != nil {
			if !strings.Contains(err.Error(), `rule "fuzzed"`) {
				t.Fatalf("New error does not name the rule: %v", err)
			}
			return
		}
		d := e.Evaluate(&a)
		x := e.Explain(&a)
		if d.Severity != x.Severity || d.Rule != x.Rule {
			t.Fatalf("Evaluate %v by %q, Explain %v by %q", d.Severity, d.Rule, x.Severity, x.Rule)
		}
		_, _ = e.Suppress(&a, &d, t0, nil, []InhibitSource{p0Source("checkout")})
	})
}
