package router_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
)

func TestScheduleFollowsRotation(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Roles["oncall"] = config.Role{Rotation: &config.Rotation{Handoff: "10:05", Shift: config.Duration(24 * time.Hour), Start: "2026-11-26",
			Members: []config.Member{{Name: "alice", Targets: []string{"pager"}}, {Name: "bob", Targets: []string{"pager"}}}}}
	}) // the clock starts Friday 2026-11-27 10:00 UTC
	from := h.clk.Now()
	sched := h.eng.Schedule(from, from.Add(72*time.Hour))
	var who []string
	for _, s := range sched["oncall"] {
		who = append(who, s.Member+" "+s.Start.Format("02 15:04"))
	}
	require.Equal(t, []string{"alice 27 10:00", "bob 27 10:05", "alice 28 10:05", "bob 29 10:05"}, who)
	require.Equal(t, from.Add(72*time.Hour), sched["oncall"][3].End)
	require.Len(t, sched["cto"], 1, "a role without rotation is one shift")
	require.Equal(t, "role", sched["cto"][0].Source)
}

func TestTargetStates(t *testing.T) {
	h := newHarness(t, nil)
	var names []string
	for _, s := range h.eng.TargetStates() {
		names = append(names, s.Name)
		require.Equal(t, "closed", s.Breaker, s.Name)
	}
	require.Equal(t, []string{"chat", "log", "pager"}, names)
}
