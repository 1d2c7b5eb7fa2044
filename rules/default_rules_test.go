package rules

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// am builds an Alertmanager alert the way the adapter does.
func am(labels map[string]string) alert.Alert {
	a := alert.Alert{Source: "alertmanager", SourceType: "alertmanager", Status: alert.StatusFiring, Labels: labels,
		Title: labels["alertname"], Service: alert.ServiceFromLabels(labels), SeverityHint: labels["severity"]}
	a.Fingerprint = alert.FingerprintLabels(labels)
	return a
}

func withTitle(a alert.Alert, title string) alert.Alert {
	a.Title = title
	return a
}

func withImpact(a alert.Alert, pct float64) alert.Alert {
	a.Impact = alert.Impact{AffectedUsersPct: pct, Known: true}
	return a
}

// probe builds a failing health-check alert as the probe adapters do.
func probe(check, service string) alert.Alert {
	return alert.Alert{Source: "probes", SourceType: "healthcheck", Status: alert.StatusFiring, Title: check + " is down",
		Service: service, Labels: map[string]string{"check": check, "probe": "true"}, Fingerprint: check}
}

type defaultRuleCase struct {
	name     string
	in       alert.Alert
	severity alert.Severity
	category string
	runbook  string
	rule     string
}

// defaultRuleCases is the table of TestDefaultRules: every default rule
// is reached by at least one case (TestEveryDefaultRuleHasACase).
func defaultRuleCases() []defaultRuleCase {
	type L = map[string]string
	return []defaultRuleCase{
		// Categories by keyword, with their runbooks.
		{"security keyword", am(L{"alertname": "IntrusionDetected"}), alert.P0, "security", "", "security-incident"},
		{"payment down", am(L{"alertname": "PaymentGatewayDown", "service": "payments", "severity": "critical"}), alert.P0, "payment", "service-outage", "payment-auth-failure"},
		{"auth unavailable", am(L{"alertname": "SSOLoginUnavailable"}), alert.P0, "auth", "service-outage", "payment-auth-failure"},
		{"auth by oauth2 service", am(L{"alertname": "TokenEndpointFailing", "service": "oauth2-proxy"}), alert.P0, "auth", "service-outage", "payment-auth-failure"},
		{"payment critical without failure word", am(L{"alertname": "CheckoutErrorsHigh", "severity": "critical"}), alert.P0, "payment", "service-outage", "payment-auth-critical"},
		{"payment warning is the sender's level", am(L{"alertname": "BillingExportLate", "severity": "warning"}), alert.P2, "payment", "service-outage", "severity-warning"},
		{"payment over auth over database", am(L{"alertname": "ReplicaDown", "service": "payments-db"}), alert.P0, "payment", "service-outage", "payment-auth-failure"},
		{"database warning", am(L{"alertname": "PostgresReplicationLag", "severity": "warning"}), alert.P2, "database", "database", "severity-warning"},
		{"database connectivity", am(L{"alertname": "MySQLConnectionsExhausted", "severity": "critical"}), alert.P1, "database", "database", "database-connectivity"},
		{"database down is P1, not an outage", am(L{"alertname": "PostgresDown"}), alert.P1, "database", "database", "database-connectivity"},
		{"db as a CamelCase word", am(L{"alertname": "DBConnectionsHigh", "severity": "error"}), alert.P1, "database", "database", "database-connectivity"},
		{"service outage", am(L{"alertname": "ServiceDown", "severity": "critical"}), alert.P0, "outage", "service-outage", "service-outage"},
		{"HTTPServerDown splits", am(L{"alertname": "HTTPServerDown"}), alert.P0, "outage", "service-outage", "service-outage"},
		{"info demotes an outage", am(L{"alertname": "InstanceDown", "severity": "info"}), alert.P3, "outage", "service-outage", "severity-info"},
		{"partial degradation", am(L{"alertname": "SearchDegraded"}), alert.P1, "degradation", "performance", "partial-degradation"},
		{"performance by warning", am(L{"alertname": "HighLatency", "severity": "warning"}), alert.P2, "performance", "performance", "severity-warning"},
		{"performance by title phrase", withTitle(am(L{"alertname": "Frontend5xx", "severity": "critical"}), "frontend error rate above 5%"), alert.P1, "performance", "performance", "performance-severe"},
		{"more than half the users", withImpact(am(L{"alertname": "HighLatency"}), 60), alert.P1, "performance", "performance", "users-majority"},
		{"half the users or fewer, whatever the label", withImpact(am(L{"alertname": "HighLatency", "severity": "critical"}), 50), alert.P2, "performance", "performance", "users-minority"},
		{"payment latency for most users", withImpact(am(L{"alertname": "CheckoutLatencyHigh", "severity": "warning"}), 70), alert.P1, "payment", "service-outage", "users-majority"},
		{"most users, but cosmetic", withImpact(am(L{"alertname": "TypoInFooter"}), 100), alert.P3, "cosmetic", "", "low-priority"},
		{"degradation of few users", withImpact(am(L{"alertname": "SearchDegraded"}), 10), alert.P2, "degradation", "performance", "users-minority"},
		{"cosmetic", am(L{"alertname": "TypoOnLandingPage", "severity": "critical"}), alert.P3, "cosmetic", "", "low-priority"},
		{"docs", withTitle(am(L{"alertname": "Stale"}), "Docs build is stale"), alert.P3, "docs", "", "low-priority"},
		{"enhancement phrase", withTitle(am(L{"alertname": "Request"}), "Feature request: dark mode"), alert.P3, "enhancement", "", "low-priority"},
		{"feature", am(L{"alertname": "FeatureFlagSyncFailing", "severity": "warning"}), alert.P2, "feature", "", "minor-issue"},
		{"monitoring", am(L{"alertname": "PrometheusTargetMissing", "severity": "critical"}), alert.P2, "monitoring", "", "minor-issue"},

		// An explicit category label wins over keywords.
		{"category label beats keywords", am(L{"alertname": "HighLatency", "category": "payment", "severity": "critical"}), alert.P0, "payment", "service-outage", "payment-auth-critical"},
		{"security label beats warning", am(L{"alertname": "TooManyLogins", "category": "security", "severity": "warning"}), alert.P0, "security", "", "security-incident"},
		{"outage label", am(L{"alertname": "Anything", "category": "outage"}), alert.P0, "outage", "service-outage", "service-outage"},
		{"unknown category label is kept", am(L{"alertname": "PostgresDown", "category": "storage"}), alert.P2, "storage", "", "default"},

		// An explicit level wins over everything.
		{"explicit P0", am(L{"alertname": "TypoOnLandingPage", "severity": "P0"}), alert.P0, "cosmetic", "", "explicit-p0"},
		{"explicit p1", am(L{"alertname": "Anything", "severity": "p1"}), alert.P1, "", "", "explicit-p1"},
		{"explicit P2", am(L{"alertname": "ServiceDown", "severity": "P2"}), alert.P2, "outage", "service-outage", "explicit-p2"},
		{"explicit P3", am(L{"alertname": "Anything", "severity": "P3"}), alert.P3, "", "", "explicit-p3"},

		// Health-check probes.
		{"probe of a payment service", probe("checkout-health", "checkout"), alert.P0, "payment", "service-outage", "probe-down-critical-service"},
		{"probe failure", probe("api-health", "api"), alert.P1, "outage", "service-outage", "probe-down"},
		{"probe without outage words", withTitle(probe("api", "api"), "api: 503"), alert.P1, "outage", "service-outage", "probe-down"},

		// The sender's severity word.
		{"critical", am(L{"alertname": "DiskFull", "severity": "critical"}), alert.P0, "", "", "severity-critical"},
		{"CRITICAL", am(L{"alertname": "DiskFull", "severity": "CRITICAL"}), alert.P0, "", "", "severity-critical"},
		{"error", am(L{"alertname": "KubePodCrashLooping", "severity": "error"}), alert.P1, "", "", "severity-high"},
		{"high", am(L{"alertname": "KubePodCrashLooping", "severity": "High"}), alert.P1, "", "", "severity-high"},
		{"warning", am(L{"alertname": "KubePodCrashLooping", "severity": "warning"}), alert.P2, "", "", "severity-warning"},
		{"info", am(L{"alertname": "KubePodCrashLooping", "severity": "info"}), alert.P3, "", "", "severity-info"},
		{"anchored: not-critical", am(L{"alertname": "KubePodCrashLooping", "severity": "not-critical"}), alert.P2, "", "", "default"},
		{"catch-all", am(L{"alertname": "KubeJobFailed"}), alert.P2, "", "", "default"},

		// Words, not substrings.
		{"feedback is not db", am(L{"alertname": "FeedbackFormErrors"}), alert.P2, "", "", "default"},
		{"download is not down", am(L{"alertname": "DownloadQueueBacklog"}), alert.P2, "", "", "default"},
		{"cooldown is not down", am(L{"alertname": "CooldownExceeded", "severity": "warning"}), alert.P2, "", "", "severity-warning"},
		{"author is not auth", am(L{"alertname": "AuthorBioMissing"}), alert.P2, "", "", "default"},
		{"downstream is not down", am(L{"alertname": "DownstreamRetries"}), alert.P2, "", "", "default"},
	}
}

func TestDefaultRules(t *testing.T) {
	e, err := New(config.Default())
	require.NoError(t, err)
	for _, tc := range defaultRuleCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := e.Evaluate(&tc.in)
			x := e.Explain(&tc.in)
			require.Equal(t, tc.severity, d.Severity, "severity (%s)", x.Reason())
			// Matched, which a new incident's timeline reads, lists the
			// same rules and gives the same reason, without the trace.
			m := e.Matched(&tc.in)
			require.Equal(t, x.Matched, m.Matched, "Matched lists what Explain does")
			require.Equal(t, x.Reason(), m.Reason())
			require.Nil(t, m.Trace)
			require.Equal(t, tc.category, d.Category, "category")
			require.Equal(t, tc.runbook, d.Runbook, "runbook")
			require.Equal(t, tc.rule, d.Rule, "rule")
			require.Equal(t, d.Severity, x.Severity, "Explain agrees with Evaluate")
			require.Equal(t, d.Category, x.Category)
			require.Equal(t, d.Rule, x.Rule)
		})
	}
}

// TestEveryDefaultRuleHasACase fails when a default rule is added without
// a case in TestDefaultRules that reaches it.
func TestEveryDefaultRuleHasACase(t *testing.T) {
	e, err := New(config.Default())
	require.NoError(t, err)
	hit := map[string]bool{}
	for _, tc := range defaultRuleCases() {
		for _, r := range e.Explain(&tc.in).Matched {
			hit[r] = true
		}
	}
	for _, r := range config.Default().Rules {
		require.True(t, hit[r.Name], "default rule %q has no case", r.Name)
	}
}
