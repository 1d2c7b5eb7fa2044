package config

import (
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

func TestDefaultValidates(t *testing.T) {
	require.NoError(t, Default().Validate())
}

func TestDefaultIsAFreshCopy(t *testing.T) {
	a := Default()
	a.Roles[RoleOnCall] = Role{Targets: []string{"x"}}
	a.Escalation.Matrix[0].Repeat.Limit = 99
	b := Default()
	require.Equal(t, []string{LogTarget}, b.Roles[RoleOnCall].Targets)
	require.Equal(t, 12, b.Escalation.Matrix[0].Repeat.Limit)
}

func TestDefaultServer(t *testing.T) {
	c := Default()
	require.Equal(t, Server{
		Listen:       ":8080",
		ExternalURL:  "http://localhost:8080",
		MaxBodyBytes: 1048576,
		ReadTimeout:  Duration(10 * time.Second),
		WriteTimeout: Duration(10 * time.Second),
		IdleTimeout:  Duration(60 * time.Second),
	}, c.Server)
	require.Equal(t, Log{Level: "info", Format: "json"}, c.Log)
	require.Equal(t, Storage{Driver: "sqlite", Path: "./data/alertgate.db"}, c.Storage)
	require.Equal(t, []Source{
		{Name: "alertmanager", Type: "alertmanager"},
		{Name: "grafana", Type: "grafana"},
		{Name: "probes", Type: "healthcheck"},
	}, c.Sources)
	require.Equal(t, []string{"alertname", "service"}, c.Dedup.GroupBy)
	require.Equal(t, 10*time.Minute, c.Dedup.ReopenWithin.D())
}

func TestDefaultSeverities(t *testing.T) {
	tests := []struct {
		sev                           alert.Severity
		name                          string
		response, resolution, updates time.Duration
		examples                      []string
	}{
		{alert.P0, "Critical", 15 * time.Minute, time.Hour, 15 * time.Minute,
			[]string{"Complete service outage", "Data breach/security incident", "Payment system failure", "Authentication system down"}},
		{alert.P1, "High", 30 * time.Minute, 4 * time.Hour, 30 * time.Minute,
			[]string{"Partial service degradation", "Performance issues >50% users", "Database connectivity issues"}},
		{alert.P2, "Medium", 2 * time.Hour, 24 * time.Hour, 2 * time.Hour,
			[]string{"Minor feature issues", "Performance degradation <50% users", "Monitoring alerts"}},
		{alert.P3, "Low", 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour,
			[]string{"Cosmetic issues", "Enhancement requests", "Documentation updates"}},
	}
	c := Default()
	for _, tt := range tests {
		t.Run(tt.sev.String(), func(t *testing.T) {
			l := c.Severities.Level(tt.sev)
			require.Equal(t, tt.name, l.Name)
			require.Equal(t, tt.sev.Name(), l.Name)
			require.Equal(t, tt.response, l.Response.D(), "response")
			require.Equal(t, tt.resolution, l.Resolution.D(), "resolution")
			require.Equal(t, tt.updates, l.Updates.D(), "updates")
			require.Equal(t, tt.examples, l.Examples)
		})
	}
}

func TestDefaultMatrix(t *testing.T) {
	at := func(d time.Duration) Cell { return Cell{Delay: d} }
	digest := func(p string) Cell { return Cell{Digest: p} }
	tests := []struct {
		role   string
		stopOn string
		repeat *Repeat
		cells  [4]Cell
	}{
		{RoleOnCall, StopOnAcknowledged, &Repeat{Every: Duration(5 * time.Minute), Limit: 12},
			[4]Cell{at(0), at(0), at(2 * time.Hour), at(24 * time.Hour)}},
		{RoleTeamLead, StopOnAcknowledged, nil,
			[4]Cell{at(15 * time.Minute), at(30 * time.Minute), at(4 * time.Hour), digest(DigestDaily)}},
		{RoleEngManager, StopOnResolved, nil,
			[4]Cell{at(30 * time.Minute), at(2 * time.Hour), digest(DigestDaily), digest(DigestWeekly)}},
		{RoleCTO, StopOnResolved, nil,
			[4]Cell{at(time.Hour), at(4 * time.Hour), digest(DigestWeekly), digest(DigestMonthly)}},
	}
	m := Default().Escalation.Matrix
	require.Len(t, m, len(tests))
	for i, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			row := m[i]
			require.Equal(t, tt.role, row.Role)
			require.Equal(t, tt.stopOn, row.StopOn)
			require.Equal(t, tt.repeat, row.Repeat)
			for _, sev := range alert.Severities {
				require.Equal(t, tt.cells[sev], row.Cell(sev), "cell %s", sev)
			}
		})
	}
	require.Equal(t, Digests{TimeZone: "UTC", At: "09:00", Weekday: "monday", MonthDay: 1}, Default().Escalation.Digests)
}

func TestDefaultRolesTargetsCommunication(t *testing.T) {
	c := Default()
	require.Equal(t, map[string]Role{
		"oncall":      {Targets: []string{"log"}},
		"team-lead":   {Targets: []string{"log"}},
		"eng-manager": {Targets: []string{"log"}},
		"cto":         {Targets: []string{"log"}},
	}, c.Roles)
	require.Len(t, c.Targets, 1)
	require.Equal(t, "log", c.Targets[0].Name)
	require.Equal(t, "log", c.Targets[0].Type)
	require.Equal(t, []Channel{
		{Name: "#incidents", Severities: []string{"P0", "P1"}, Targets: []string{"log"}},
		{Name: "#alerts", Severities: []string{"P2", "P3"}, Targets: []string{"log"}},
	}, c.Communication.Channels)
	require.Equal(t, StatusPage{URL: "https://status.azora.world", Severities: []string{"P0", "P1"}, Targets: []string{}},
		c.Communication.StatusPage)
}

func TestDefaultRunbooks(t *testing.T) {
	require.Equal(t, []Runbook{
		{Name: "database", Title: "Database Issues", Steps: []string{
			"kubectl get pods -n database",
			"kubectl logs -f postgres-primary-0",
			`psql -h primary -c "SELECT * FROM pg_stat_replication;"`,
		}},
		{Name: "service-outage", Title: "Service Outage", Steps: []string{
			"curl -f http://api-gateway:4000/health",
			"kubectl rollout restart deployment/api-gateway",
			"kubectl logs -f deployment/api-gateway --tail=100",
		}},
		{Name: "performance", Title: "Performance Issues", Steps: []string{
			"kubectl top pods -n azora-services",
			"kubectl scale deployment api-gateway --replicas=5",
		}},
	}, Default().Runbooks)
}

// classify applies rules the way the rules engine does: the first rule
// that sets a field wins, and a match without continue ends the search.
func classify(t *testing.T, rules []Rule, fields map[string]string) (severity, category, runbook string) {
	t.Helper()
	for _, r := range rules {
		matched := true
		for _, s := range r.Match {
			m, err := labels.ParseMatcher(s)
			require.NoError(t, err, s)
			matched = matched && m.Matches(fields[m.Name])
		}
		if !matched {
			continue
		}
		severity = cmpOr(severity, r.Severity)
		category = cmpOr(category, r.Category)
		runbook = cmpOr(runbook, r.Runbook)
		if !r.Continue {
			break
		}
	}
	return severity, category, runbook
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestDefaultRules(t *testing.T) {
	tests := []struct {
		name                        string
		fields                      map[string]string
		severity, category, runbook string
	}{
		{"critical label", map[string]string{"severity": "critical"}, "P0", "", ""},
		{"critical any case", map[string]string{"severity": "CRITICAL"}, "P0", "", ""},
		{"error label", map[string]string{"severity": "error"}, "P1", "", ""},
		{"high label", map[string]string{"severity": "High"}, "P1", "", ""},
		{"warning label", map[string]string{"severity": "warning"}, "P2", "", ""},
		{"info label", map[string]string{"severity": "info"}, "P3", "", ""},
		{"regex is anchored", map[string]string{"severity": "not-critical"}, "P2", "", ""},
		{"probe failure", map[string]string{"source_type": "healthcheck"}, "P1", "outage", "service-outage"},
		{"catch-all", map[string]string{"alertname": "Watchdog"}, "P2", "", ""},
		{"database by alertname", map[string]string{"alertname": "PostgresReplicationLag", "severity": "warning"}, "P2", "database", "database"},
		{"database by service", map[string]string{"service": "orders-mysql"}, "P2", "database", "database"},
		{"performance by title", map[string]string{"title": "High request latency on checkout", "severity": "critical"}, "P0", "performance", "performance"},
		{"outage by title", map[string]string{"title": "API gateway is down"}, "P2", "outage", "service-outage"},
		{"database wins over outage", map[string]string{"alertname": "DatabaseDown", "severity": "critical"}, "P0", "database", "database"},
	}
	rules := Default().Rules
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sev, cat, rb := classify(t, rules, tt.fields)
			require.Equal(t, tt.severity, sev, "severity")
			require.Equal(t, tt.category, cat, "category")
			require.Equal(t, tt.runbook, rb, "runbook")
		})
	}
}
