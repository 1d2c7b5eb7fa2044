package router_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/router/notify"
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

// A target's recent success rate counts the sends that reached it in the
// last 15 minutes: a 400 is a failure (the breaker counts it as a
// success: it says nothing of the target's health), and older sends drop
// out.
func TestTargetStatesCountRecentSends(t *testing.T) {
	h := newHarness(t, nil)
	pager := func() router.TargetState {
		for _, s := range h.eng.TargetStates() {
			if s.Name == "pager" {
				return s
			}
		}
		t.Fatal("no pager target")
		return router.TargetState{}
	}
	require.Zero(t, pager().RecentOK+pager().RecentFailed)
	h.rec.fail["pager"] = []error{&notify.DeliveryError{Reason: notify.ReasonClient, StatusCode: 400, Err: errors.New("bad")}}
	h.ingest(critical("CheckoutDown", "checkout"))
	h.at(0)
	h.ingest(critical("SearchDown", "search"))
	h.at(time.Second)
	s := pager()
	require.Equal(t, [2]uint32{1, 1}, [2]uint32{s.RecentOK, s.RecentFailed}, "one delivered, one refused")
	require.Equal(t, "closed", s.Breaker)

	h.clk.Advance(router.RecentWindow + time.Minute)
	s = pager()
	require.Equal(t, [2]uint32{0, 0}, [2]uint32{s.RecentOK, s.RecentFailed}, "older than the window")
}

func TestSetSeverityReplansWithoutRepaging(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(mutate func(*config.Config)) *harness) {
		ctx := context.Background()
		h := newH(nil)
		h.ingest(critical("CheckoutDown", "checkout"))
		require.NotEmpty(t, h.at(0))

		_, err := h.st.SetSeverity(ctx, 1, alert.P1, "alice", "")
		require.NoError(t, err)
		for _, s := range h.at(time.Minute) {
			require.NotEqual(t, notify.KindPage, s.Kind, "lowering pages nobody again: %+v", s)
		}
		jobs, err := h.st.Jobs(ctx, 1)
		require.NoError(t, err)
		for _, p := range h.eng.Pending(jobs) {
			if p.Type == "page" {
				require.True(t, p.DueAt.After(h.clk.Now()), "a P1 page still ahead: %+v", p)
			}
		}

		_, err = h.st.SetSeverity(ctx, 1, alert.P0, "alice", "customers affected")
		require.NoError(t, err)
		var paged bool
		for _, s := range h.at(2 * time.Minute) {
			paged = paged || s.Kind == notify.KindPage
		}
		require.True(t, paged, "raising runs the P0 pages already due")
	})
}
