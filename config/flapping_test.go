package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// A matrix row's repeat applies to the severities it lists, P0 and P1 when
// it lists none; dedup.flapping merges into its defaults like the rest of
// dedup.
func TestLoadRepeatSeveritiesAndFlapping(t *testing.T) {
	const roles = "roles: {oncall: {targets: [log]}, team-lead: {targets: [log]}}\n"
	tests := []struct {
		name     string
		yaml     string
		repeats  []alert.Severity // severities whose oncall pages repeat
		flapping Flapping
	}{
		{"defaults", "", []alert.Severity{alert.P0, alert.P1}, Flapping{Reopens: 3, Window: Duration(time.Hour)}},
		{"repeat without severities", roles + `escalation:
  matrix:
    - { role: oncall, stop_on: acknowledged, repeat: { every: 5m, limit: 3 }, P0: now, P1: now, P2: 2h, P3: 24h }
    - { role: team-lead, stop_on: acknowledged, P0: 15m, P1: 30m, P2: 4h, P3: next-day }
`, []alert.Severity{alert.P0, alert.P1}, Flapping{Reopens: 3, Window: Duration(time.Hour)}},
		{"repeat for every severity", roles + `escalation:
  matrix:
    - { role: oncall, stop_on: acknowledged, repeat: { every: 5m, limit: 3, severities: [P0, P1, P2, P3] }, P0: now, P1: now, P2: 2h, P3: 24h }
    - { role: team-lead, stop_on: acknowledged, P0: 15m, P1: 30m, P2: 4h, P3: next-day }
`, alert.Severities, Flapping{Reopens: 3, Window: Duration(time.Hour)}},
		{"flapping tuned", "dedup: { reopen_within: 5m, flapping: { reopens: 5 } }\n",
			[]alert.Severity{alert.P0, alert.P1}, Flapping{Reopens: 5, Window: Duration(time.Hour)}},
		{"flapping off, other role", "dedup: { flapping: { reopens: 0, window: 30m, role: team-lead } }\n",
			[]alert.Severity{alert.P0, alert.P1}, Flapping{Window: Duration(30 * time.Minute), Role: "team-lead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadBytes("alertgate.yml", []byte(tt.yaml))
			require.NoError(t, err)
			var got []alert.Severity
			for _, sev := range alert.Severities {
				if c.Escalation.Matrix[0].Repeat.Applies(sev) {
					got = append(got, sev)
				}
			}
			require.Equal(t, tt.repeats, got)
			require.Equal(t, tt.flapping, c.Dedup.Flapping)
		})
	}
}

func TestFlappingRow(t *testing.T) {
	c := Default()
	require.Equal(t, RoleOnCall, c.FlappingRow().Role)
	c.Dedup.Flapping.Role = RoleTeamLead
	require.Equal(t, RoleTeamLead, c.FlappingRow().Role)
	c.Dedup.Flapping.Role = ""
	c.Escalation.Matrix = nil
	require.Nil(t, c.FlappingRow())
	var r *Repeat
	require.False(t, r.Applies(alert.P0), "no repeat, no repeats")
}
