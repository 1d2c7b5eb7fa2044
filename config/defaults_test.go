package config

import (
	"testing"
	"time"

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
		Listen:             "127.0.0.1:8080",
		ExternalURL:        "http://localhost:8080",
		MaxBodyBytes:       1048576,
		AlertLimits:        AlertLimits{MaxLabels: 128, MaxLabelNameBytes: 1024, MaxLabelValueBytes: 1024, MaxAnnotationBytes: 16384},
		ReadTimeout:        Duration(10 * time.Second),
		WriteTimeout:       Duration(10 * time.Second),
		IdleTimeout:        Duration(60 * time.Second),
		AckLinkTTL:         Duration(24 * time.Hour),
		MaxSilenceDuration: Duration(30 * 24 * time.Hour),
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
	require.Equal(t, Flapping{Reopens: 3, Window: Duration(time.Hour)}, c.Dedup.Flapping)
	require.Equal(t, RoleOnCall, c.FlappingRow().Role, "the first row (on-call) gets the flapping page")
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
		{RoleOnCall, StopOnAcknowledged, &Repeat{Every: Duration(5 * time.Minute), Limit: 12, Severities: []string{"P0", "P1"}},
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
