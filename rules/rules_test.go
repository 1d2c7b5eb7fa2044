package rules

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

func rulesConfig(rs ...config.Rule) *config.Config {
	c := config.Default()
	c.Rules = rs
	return c
}

func newEngine(t testing.TB, rs ...config.Rule) *Engine {
	t.Helper()
	e, err := New(rulesConfig(rs...))
	require.NoError(t, err)
	return e
}

func TestRuleOrderAndContinue(t *testing.T) {
	e := newEngine(t,
		config.Rule{Name: "enrich", Match: []string{`service=~"pay.*"`}, Category: "payment", Labels: map[string]string{"team": "payments"}, Continue: true},
		config.Rule{Name: "first", Match: []string{`severity="critical"`}, Severity: "P0", Runbook: "service-outage"},
		config.Rule{Name: "never-reached", Match: []string{`severity="critical"`}, Severity: "P3", Category: "cosmetic"},
	)
	a := am(map[string]string{"alertname": "X", "service": "payments", "severity": "critical"})
	d := e.Evaluate(&a)
	require.Equal(t, alert.P0, d.Severity)
	require.Equal(t, "payment", d.Category, "enrichment fell through")
	require.Equal(t, "service-outage", d.Runbook)
	require.Equal(t, map[string]string{"team": "payments"}, d.Labels)
	require.Equal(t, "first", d.Rule)
	require.Nil(t, d.Matched, "Evaluate leaves Matched to Explain")
	require.Equal(t, []string{"enrich", "first"}, e.Explain(&a).Matched)
	require.Equal(t, `severity P0 by rule "first", category payment, runbook service-outage (matched: enrich, first)`, func() string {
		x := e.Explain(&a)
		return x.Reason()
	}())

	b := am(map[string]string{"alertname": "X", "service": "search"})
	d = e.Evaluate(&b)
	require.Equal(t, DefaultSeverity, d.Severity)
	require.Empty(t, d.Rule)
	require.Equal(t, "severity P2 by default", d.Reason())
}

func TestMatchersSeeAlertFields(t *testing.T) {
	e := newEngine(t, config.Rule{Name: "by-title", Match: []string{`title=~"(?i).*checkout.*"`, `source="alertmanager"`}, Severity: "P1"})
	a := am(map[string]string{"alertname": "Errors"})
	a.Title = "Checkout error rate high"
	require.Equal(t, alert.P1, e.Evaluate(&a).Severity)
	a.Source = "grafana"
	require.Equal(t, alert.P2, e.Evaluate(&a).Severity)
}

func TestLaterRulesSeeTheDecidedCategory(t *testing.T) {
	e := newEngine(t,
		config.Rule{Name: "tag", Match: []string{`alertname="A"`}, Category: "database", Continue: true},
		config.Rule{Name: "db", Match: []string{`category="database"`}, Severity: "P1"},
		config.Rule{Name: "by-expr", When: `category == "payment"`, Severity: "P0"},
	)
	a := am(map[string]string{"alertname": "A", "category": "payment"})
	d := e.Evaluate(&a)
	require.Equal(t, alert.P1, d.Severity, "the rule's category hides the label")
	require.Equal(t, "database", d.Category)

	b := am(map[string]string{"alertname": "B", "category": "payment"})
	d = e.Evaluate(&b)
	require.Equal(t, alert.P0, d.Severity, "without a decided category, the label")
	require.Equal(t, "payment", d.Category, "the label is the category when no rule sets one")
}

func TestWhenExpressions(t *testing.T) {
	cases := []struct {
		name string
		when string
		a    alert.Alert
		want bool
	}{
		{"impact threshold", "impact_known && impact > 50", withImpact(am(map[string]string{"alertname": "A"}), 75), true},
		{"impact unknown", "impact_known && impact > 50", am(map[string]string{"alertname": "A"}), false},
		{"label lookup", `labels.team == "payments"`, am(map[string]string{"alertname": "A", "team": "payments"}), true},
		{"missing label is empty", `labels.team == ""`, am(map[string]string{"alertname": "A"}), true},
		{"nil annotations", `annotations.summary == ""`, am(map[string]string{"alertname": "A"}), true},
		{"regex on title", `title matches "(?i)timeout"`, withTitle(am(map[string]string{}), "Upstream TIMEOUT"), true},
		{"case-insensitive contains", `icontains(description, "disk full")`, func() alert.Alert {
			a := am(map[string]string{"alertname": "A"})
			a.Description = "Node says: DISK FULL on /var"
			return a
		}(), true},
		{"lower builtin", `lower(severity) in ["critical", "p0"]`, am(map[string]string{"alertname": "A", "severity": "CRITICAL"}), true},
		{"source and status", `source == "alertmanager" && status == "firing"`, am(map[string]string{"alertname": "A"}), true},
		{"memory budget stops big ranges", `len(1..6000) + len(1..6000) > 0`, am(map[string]string{"alertname": "A"}), false},
		{"runtime error is no match", `labels.x[0:10] == "y" && 1 / int(labels.n) > 0`, am(map[string]string{"alertname": "A", "n": "0"}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, config.Rule{Name: "r", When: tc.when, Severity: "P0"})
			d := e.Evaluate(&tc.a)
			require.Equal(t, tc.want, d.Rule == "r", e.Explain(&tc.a).Trace)
		})
	}
}

func TestWhenRuntimeErrorIsTraced(t *testing.T) {
	e := newEngine(t, config.Rule{Name: "div", When: `1 / int(labels.n) > 0`, Severity: "P0"})
	a := am(map[string]string{"alertname": "A", "n": "zero"})
	x := e.Explain(&a)
	require.Equal(t, DefaultSeverity, x.Severity)
	require.Len(t, x.Trace, 1)
	require.False(t, x.Trace[0].Matched)
	require.Contains(t, x.Trace[0].Detail, "when: ")
}

func TestBadRulesAreErrorsNamingTheRule(t *testing.T) {
	cases := []struct {
		name string
		rule config.Rule
		want string
	}{
		{"bad matcher", config.Rule{Name: "bad", Match: []string{`service=~"("`}}, `rule "bad": matcher`},
		{"syntax", config.Rule{Name: "syn", When: `impact >`}, `rule "syn": when: `},
		{"unknown name", config.Rule{Name: "unk", When: `impakt > 50`}, `rule "unk": when: unknown name impakt`},
		{"not a bool", config.Rule{Name: "num", When: `impact + 1`}, `rule "num": when: `},
		{"loops are disabled", config.Rule{Name: "loop", When: `all(1..10, # > 0)`}, `rule "loop": when: `},
		{"let is disabled", config.Rule{Name: "let", When: `let x = title; x == ""`}, `rule "let": when: let is not allowed`},
		{"repeat is disabled", config.Rule{Name: "rep", When: `repeat(title, 1000) == ""`}, `rule "rep": when: `},
		{"too big", config.Rule{Name: "big", When: bigExpr(300)}, `rule "big": when: `},
		{"unnamed rule", config.Rule{When: `nope`}, `rule "rules[0]": when: `},
		{"empty keywords", config.Rule{Name: "kw", Keywords: []string{"--"}}, `rule "kw": keywords contain no words`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(rulesConfig(tc.rule))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func bigExpr(n int) string {
	s := "impact > 0"
	for range n {
		s += " || impact > 0"
	}
	return s
}

func TestExplainTrace(t *testing.T) {
	e := newEngine(t,
		config.Rule{Name: "kw", Keywords: []string{"latency"}, Category: "performance", Continue: true},
		config.Rule{Name: "crit", Match: []string{`severity="critical"`}, Severity: "P0"},
		config.Rule{Name: "majority", Match: []string{`category="performance"`}, When: "impact > 50", Severity: "P1"},
		config.Rule{Name: "after", Severity: "P3"},
	)
	a := withImpact(am(map[string]string{"alertname": "HighLatency", "severity": "warning"}), 80)
	x := e.Explain(&a)
	require.Equal(t, []Step{
		{Rule: "kw", Matched: true, Detail: `keyword "latency"; sets category performance; continue`},
		{Rule: "crit", Detail: `severity="critical" does not hold (severity is "warning")`},
		{Rule: "majority", Matched: true, Detail: "when is true; sets severity P1"},
	}, x.Trace, "rules after the final match are not tried")
	require.Equal(t, "majority", x.Rule)
}

func TestGroupKey(t *testing.T) {
	cases := []struct {
		name string
		a    alert.Alert
		by   []string
		want string
	}{
		{"alertname and service", am(map[string]string{"alertname": "A", "service": "s", "instance": "i1"}), []string{"alertname", "service"}, `alertname="A",service="s"`},
		{"service from job", am(map[string]string{"alertname": "A", "job": "api"}), []string{"alertname", "service"}, `alertname="A",service="api"`},
		{"order does not matter", am(map[string]string{"alertname": "A", "service": "s"}), []string{"service", "alertname"}, `alertname="A",service="s"`},
		{"all empty groups alone", alert.Alert{Source: "hook", Fingerprint: "f1"}, []string{"alertname", "service"}, "source=hook,fingerprint=f1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, GroupKey(&tc.a, tc.by))
		})
	}
}

func TestRuleGroupByOverride(t *testing.T) {
	e := newEngine(t, config.Rule{Name: "per-instance", Match: []string{`alertname="Disk"`}, GroupBy: []string{"instance", "alertname"}})
	a := am(map[string]string{"alertname": "Disk", "instance": "db1", "service": "x"})
	require.Equal(t, `alertname="Disk",instance="db1"`, e.Evaluate(&a).GroupKey)
}

func BenchmarkEvaluateDefaultRules(b *testing.B) {
	e, err := New(config.Default())
	require.NoError(b, err)
	a := am(map[string]string{"alertname": "ServiceHighErrorRate", "service_name": "frontend", "severity": "critical", "signal": "errors"})
	a.Title = "frontend error rate above 5%"
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Evaluate(&a)
	}
}

// BenchmarkEvaluateDefaultRulesMix cycles through every default-rule test
// case, so each path of the default rules counts.
func BenchmarkEvaluateDefaultRulesMix(b *testing.B) {
	e, err := New(config.Default())
	require.NoError(b, err)
	cases := defaultRuleCases()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = e.Evaluate(&cases[i%len(cases)].in)
		i++
	}
}

func TestRunbookAttachment(t *testing.T) {
	cfg := config.Default()
	cfg.Runbooks = append(cfg.Runbooks,
		config.Runbook{Name: "checkout", Title: "Checkout", URL: "https://wiki.example.com/checkout", Match: []string{`service="checkout"`}},
		config.Runbook{Name: "search-outage", Title: "Search down", Match: []string{`service="search"`, `category="outage"`}},
	)
	e, err := New(cfg)
	require.NoError(t, err)
	type L = map[string]string
	withRunbook := func(a alert.Alert, u string) alert.Alert {
		a.Annotations = map[string]string{RunbookAnnotation: u}
		return a
	}
	cases := []struct {
		name          string
		in            alert.Alert
		runbook, link string
	}{
		{"category default of the seed", am(L{"alertname": "ApiDown", "service": "api", "severity": "critical"}), "service-outage", ""},
		{"a service's own runbook wins over the category default", am(L{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"}),
			"checkout", "https://wiki.example.com/checkout"},
		{"a service's runbook applies without a category", am(L{"alertname": "CheckoutOddity", "service": "checkout"}), "checkout", "https://wiki.example.com/checkout"},
		{"runbook matchers see the decided category", am(L{"alertname": "SearchDown", "service": "search"}), "search-outage", ""},
		{"runbook matchers that do not hold", am(L{"alertname": "SearchSlow", "service": "search"}), "performance", ""},
		{"the alert's runbook_url wins over the category default", withRunbook(am(L{"alertname": "ApiDown", "service": "api"}), "https://wiki.example.com/api"),
			"https://wiki.example.com/api", "https://wiki.example.com/api"},
		{"the alert's runbook_url wins over the service's", withRunbook(am(L{"alertname": "CheckoutDown", "service": "checkout"}), "https://runbooks.example.com/co"),
			"https://runbooks.example.com/co", "https://runbooks.example.com/co"},
		{"a runbook_url that is no URL is ignored", withRunbook(am(L{"alertname": "ApiDown", "service": "api"}), "see the wiki"), "service-outage", ""},
		{"no runbook", am(L{"alertname": "Typo", "service": "docs"}), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := e.Evaluate(&tc.in)
			require.Equal(t, tc.runbook, d.Runbook)
			require.Equal(t, tc.link, d.RunbookURL)
			x := e.Explain(&tc.in)
			require.Equal(t, d.Runbook, x.Runbook, "Explain decides the same")
		})
	}
}

func TestBadRunbookMatcherIsAnError(t *testing.T) {
	cfg := config.Default()
	cfg.Runbooks = append(cfg.Runbooks, config.Runbook{Name: "x", Match: []string{`service=~"("`}})
	_, err := New(cfg)
	require.ErrorContains(t, err, `runbook "x": matcher`)
}

// BenchmarkExplainDefaultRules is the timeline's explanation of a new
// incident's first alert (the store's writer runs it once per incident).
func BenchmarkExplainDefaultRules(b *testing.B) {
	e, err := New(config.Default())
	require.NoError(b, err)
	a := am(map[string]string{"alertname": "ServiceHighErrorRate", "service_name": "frontend", "severity": "critical", "signal": "errors"})
	a.Title = "frontend error rate above 5%"
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Explain(&a)
	}
}
