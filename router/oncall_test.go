package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/store"
)

func targetsOf(s []sent, step string) []string {
	var out []string
	for _, m := range s {
		if m.Step == step {
			out = append(out, m.Target)
		}
	}
	return out
}

// A page goes to whoever is on call when it is sent: the rotation hands
// over at 10:05, so the 5-minute repeat reaches the next member; an
// override in force wins over the rotation.
func TestPagesFollowRotationAndOverrides(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets = append(c.Targets,
			config.Target{Name: "alice-phone", Type: "webhook", Settings: &webhook.Settings{URL: "http://a.invalid/"}},
			config.Target{Name: "bob-phone", Type: "webhook", Settings: &webhook.Settings{URL: "http://b.invalid/"}},
			config.Target{Name: "carol-phone", Type: "webhook", Settings: &webhook.Settings{URL: "http://c.invalid/"}})
		c.Roles["oncall"] = config.Role{Rotation: &config.Rotation{Handoff: "10:05", Shift: config.Duration(24 * time.Hour), Start: "2026-11-26",
			Members: []config.Member{{Name: "alice", Targets: []string{"alice-phone"}}, {Name: "bob", Targets: []string{"bob-phone"}}}}}
	}) // the clock starts Friday 2026-11-27 10:00 UTC
	var member string
	for _, o := range h.eng.OnCallNow() {
		if o.Role == "oncall" {
			member = o.Member
			require.Equal(t, "rotation", o.Source)
			require.Equal(t, time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC), o.Until)
			require.Equal(t, "bob", o.Next.Member)
		}
	}
	require.Equal(t, "alice", member, "Thursday 10:05 to Friday 10:05 is alice's shift")

	h.ingest(critical("CheckoutDown", "checkout"))
	require.Equal(t, []string{"alice-phone"}, targetsOf(h.at(0), "oncall#0"))
	require.Equal(t, []string{"bob-phone"}, targetsOf(h.at(5*time.Minute), "oncall#1"), "the repeat goes to the new shift")

	// Carol takes over for an hour.
	o := store.Override{Role: "oncall", Member: "carol", Targets: []string{"carol-phone"}, StartsAt: h.clk.Now(), EndsAt: h.clk.Now().Add(time.Hour), CreatedBy: "lead"}
	require.NoError(t, h.eng.CheckOverride(&o))
	_, err := h.st.CreateOverride(context.Background(), o)
	require.NoError(t, err)
	require.Equal(t, []string{"carol-phone"}, targetsOf(h.at(10*time.Minute), "oncall#2"))
	bad := store.Override{Role: "oncall", Member: "dave", StartsAt: h.clk.Now(), EndsAt: h.clk.Now().Add(time.Hour), CreatedBy: "lead"}
	require.ErrorIs(t, h.eng.CheckOverride(&bad), store.ErrInvalid, "dave is not in the rotation and has no targets")
	byName := store.Override{Role: "oncall", Member: "alice"}
	require.NoError(t, h.eng.CheckOverride(&byName))
	require.Equal(t, []string{"alice-phone"}, byName.Targets, "a rotation member's targets are used")
}

// Who pages now lists the roles in escalation order, the on-call first
// and the CTO last, then roles outside the matrix by name.
func TestOnCallNowInEscalationOrder(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Roles["auditor"] = config.Role{Targets: []string{"log"}}
	})
	var roles []string
	for _, o := range h.eng.OnCallNow() {
		roles = append(roles, o.Role)
	}
	require.Equal(t, []string{"oncall", "team-lead", "eng-manager", "cto", "auditor"}, roles)
}
