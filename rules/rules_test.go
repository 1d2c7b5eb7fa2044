package rules

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

func am(labels map[string]string) alert.Alert {
	a := alert.Alert{Source: "alertmanager", SourceType: "alertmanager", Status: alert.StatusFiring, Labels: labels,
		Title: labels["alertname"], Service: alert.ServiceFromLabels(labels), SeverityHint: labels["severity"]}
	a.Fingerprint = alert.FingerprintLabels(labels)
	return a
}

func TestDefaultRules(t *testing.T) {
	e, err := New(config.Default())
	require.NoError(t, err)
	probe := alert.Alert{Source: "probes", SourceType: "healthcheck", Status: alert.StatusFiring, Title: "api-health is down",
		Labels: map[string]string{"check": "api-health", "probe": "true"}, Fingerprint: "p1"}
	cases := []struct {
		name     string
		in       alert.Alert
		severity alert.Severity
		category string
		runbook  string
		rule     string
	}{
		{"critical label is P0", am(map[string]string{"alertname": "CheckoutErrors", "severity": "critical"}), alert.P0, "", "", "severity-critical"},
		{"Critical in any case", am(map[string]string{"alertname": "CheckoutErrors", "severity": "CRITICAL"}), alert.P0, "", "", "severity-critical"},
		{"error label is P1", am(map[string]string{"alertname": "CheckoutErrors", "severity": "error"}), alert.P1, "", "", "severity-high"},
		{"high label is P1", am(map[string]string{"alertname": "CheckoutErrors", "severity": "high"}), alert.P1, "", "", "severity-high"},
		{"warning label is P2", am(map[string]string{"alertname": "CheckoutErrors", "severity": "warning"}), alert.P2, "", "", "severity-warning"},
		{"info label is P3", am(map[string]string{"alertname": "CheckoutErrors", "severity": "info"}), alert.P3, "", "", "severity-info"},
		{"P1 as a severity word", am(map[string]string{"alertname": "CheckoutErrors", "severity": "P1"}), alert.P1, "", "", "severity-high"},
		{"probe severity hint wins", func() alert.Alert { p := probe; p.SeverityHint = "P0"; return p }(), alert.P0, "outage", "service-outage", "severity-critical"},
		{"no severity is P2", am(map[string]string{"alertname": "CheckoutErrors"}), alert.P2, "", "", "default"},
		{"unknown severity is P2", am(map[string]string{"alertname": "CheckoutErrors", "severity": "page"}), alert.P2, "", "", "default"},
		{"probe failure is P1 outage", probe, alert.P1, "outage", "service-outage", "probe-failure"},
		{"database by alertname", am(map[string]string{"alertname": "PostgresReplicationLag", "severity": "warning"}), alert.P2, "database", "database", "severity-warning"},
		{"database by service", am(map[string]string{"alertname": "HighConnections", "service": "mysql-main", "severity": "critical"}), alert.P0, "database", "database", "severity-critical"},
		{"performance by alertname", am(map[string]string{"alertname": "HighLatency", "severity": "warning"}), alert.P2, "performance", "performance", "severity-warning"},
		{"outage by alertname", am(map[string]string{"alertname": "ServiceDown", "severity": "critical"}), alert.P0, "outage", "service-outage", "severity-critical"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := e.Evaluate(&tc.in)
			require.Equal(t, tc.severity, d.Severity)
			require.Equal(t, tc.category, d.Category)
			require.Equal(t, tc.runbook, d.Runbook)
			require.Equal(t, tc.rule, d.Rule)
			require.Contains(t, d.Reason(), tc.severity.String())
		})
	}
}

func rulesConfig(rs ...config.Rule) *config.Config {
	c := config.Default()
	c.Rules = rs
	return c
}

func TestRuleOrderAndContinue(t *testing.T) {
	e, err := New(rulesConfig(
		config.Rule{Name: "enrich", Match: []string{`service=~"pay.*"`}, Category: "payment", Labels: map[string]string{"team": "payments"}, Continue: true},
		config.Rule{Name: "first", Match: []string{`severity="critical"`}, Severity: "P0", Runbook: "service-outage"},
		config.Rule{Name: "never-reached", Match: []string{`severity="critical"`}, Severity: "P3", Category: "cosmetic"},
	))
	require.NoError(t, err)
	a := am(map[string]string{"alertname": "X", "service": "payments", "severity": "critical"})
	d := e.Evaluate(&a)
	require.Equal(t, alert.P0, d.Severity)
	require.Equal(t, "payment", d.Category, "enrichment fell through")
	require.Equal(t, "service-outage", d.Runbook)
	require.Equal(t, map[string]string{"team": "payments"}, d.Labels)
	require.Equal(t, []string{"enrich", "first"}, d.Matched)
	require.Equal(t, "first", d.Rule)

	b := am(map[string]string{"alertname": "X", "service": "search"})
	d = e.Evaluate(&b)
	require.Equal(t, DefaultSeverity, d.Severity)
	require.Empty(t, d.Rule)
	require.Empty(t, d.Matched)
}

func TestMatchersSeeAlertFields(t *testing.T) {
	e, err := New(rulesConfig(
		config.Rule{Name: "by-title", Match: []string{`title=~"(?i).*checkout.*"`, `source="alertmanager"`}, Severity: "P1"},
	))
	require.NoError(t, err)
	a := am(map[string]string{"alertname": "Errors"})
	a.Title = "Checkout error rate high"
	require.Equal(t, alert.P1, e.Evaluate(&a).Severity)
	a.Source = "grafana"
	require.Equal(t, alert.P2, e.Evaluate(&a).Severity)
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
	e, err := New(rulesConfig(config.Rule{Name: "per-instance", Match: []string{`alertname="Disk"`}, GroupBy: []string{"alertname", "instance"}}))
	require.NoError(t, err)
	a := am(map[string]string{"alertname": "Disk", "instance": "db1", "service": "x"})
	require.Equal(t, `alertname="Disk",instance="db1"`, e.Evaluate(&a).GroupKey)
}

func TestBadMatcherIsAnError(t *testing.T) {
	_, err := New(rulesConfig(config.Rule{Name: "bad", Match: []string{`service=~"("`}}))
	require.ErrorContains(t, err, `rule "bad"`)
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
