package router_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// checkoutAlert is a P0 of the checkout service on one instance.
func checkoutAlert(instance string) alert.Alert {
	a := critical("CheckoutDown", "checkout")
	a.Fingerprint += instance
	a.Labels["instance"] = instance
	return a
}

func silence(t *testing.T, h *harness, until time.Duration, matchers ...string) string {
	t.Helper()
	sil, err := h.st.CreateSilence(context.Background(), config.Silence{Matchers: matchers,
		EndsAt: h.rec.start.Add(until).Format(time.RFC3339), CreatedBy: "alice", Comment: "deploy"})
	require.NoError(t, err)
	return sil.ID
}

// A suppression that starts after the incident opened holds its pages —
// repeats and later steps alike — without dropping them; SLA breaches
// still reach the channel. When it ends, each held step pages once and the
// repeats continue from then.
func TestSuppressionHoldsAnOpenIncidentsPages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		// start begins the suppression at 1m (the incident opened at 0);
		// it returns what the timeline names.
		start func(t *testing.T, h *harness) string
		// end ends it at 22m.
		end func(t *testing.T, h *harness, by string)
	}{
		{
			name: "silence expired early",
			start: func(t *testing.T, h *harness) string {
				return "silence " + silence(t, h, 2*time.Hour, `service="checkout"`)
			},
			end: func(t *testing.T, h *harness, by string) {
				require.NoError(t, h.st.ExpireSilence(context.Background(), strings.TrimPrefix(by, "silence ")))
			},
		},
		{
			name: "silence runs out",
			start: func(t *testing.T, h *harness) string {
				return "silence " + silence(t, h, 22*time.Minute, `service="checkout"`)
			},
			end: func(t *testing.T, h *harness, _ string) {
				_, err := h.st.ReleaseHeld(context.Background()) // the 15 s sweep
				require.NoError(t, err)
			},
		},
		{
			name: "maintenance window closes",
			mutate: func(c *config.Config) {
				c.Maintenance = []config.Maintenance{{Name: "friday-deploy", Matchers: []string{`service="checkout"`},
					Weekdays: []string{"friday"}, Start: "10:01", End: "10:22", TimeZone: "UTC"}}
			},
			start: func(*testing.T, *harness) string { return "maintenance window friday-deploy" },
			end: func(t *testing.T, h *harness, _ string) {
				_, err := h.st.ReleaseHeld(context.Background())
				require.NoError(t, err)
			},
		},
		{
			name: "an alert that is not silenced joins",
			start: func(t *testing.T, h *harness) string {
				return "silence " + silence(t, h, 2*time.Hour, `service="checkout"`, `instance="a"`)
			},
			end: func(t *testing.T, h *harness, _ string) {
				h.ingest(checkoutAlert("b"))
				_, err := h.st.ReleaseHeld(context.Background())
				require.NoError(t, err)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachDSN(t, func(t *testing.T, dsn string) {
				h := newHarnessOn(t, dsn, tc.mutate)
				h.ingest(checkoutAlert("a"))
				require.Equal(t, []string{"oncall#0"}, pages(h.at(0)))

				h.at(time.Minute)
				by := tc.start(t, h)
				require.Empty(t, h.at(5*time.Minute), "the On-Call repeat is held")
				require.Empty(t, h.at(10*time.Minute), "a held page does not repeat")
				got := h.at(15 * time.Minute)
				require.Empty(t, pages(got), "the Team Lead page is held too")
				require.Contains(t, got, sent{Target: "chat", Kind: notify.KindInfo, Step: "sla:response", At: 15 * time.Minute},
					"the SLA keeps running and its breach reaches the channel")

				held := timeline(t, h, alert.EventSuppressed)
				require.Len(t, held, 1, "the timeline says it once per suppression, not once per step")
				require.True(t, strings.HasPrefix(held[0], "suppressed by "+by), held[0])
				require.Contains(t, held[0], "pages held from page/oncall#1 on")
				d, err := h.st.GetIncident(context.Background(), 1)
				require.NoError(t, err)
				require.NotNil(t, d.Suppressed)
				require.Equal(t, []string{"page/oncall#1", "page/team-lead#0"}, d.Held)

				h.clk.Advance(22*time.Minute - h.clk.Now().Sub(h.rec.start))
				tc.end(t, h, by)
				require.Equal(t, []string{"oncall#1", "team-lead#0"}, pages(h.at(22*time.Minute)),
					"each held step pages once, now; the missed repeat is not sent")
				require.Equal(t, []string{"no longer suppressed by " + by + ": 2 held step(s) due now (page/oncall#1, page/team-lead#0)"},
					timeline(t, h, alert.EventUnsuppressed))
				d, err = h.st.GetIncident(context.Background(), 1)
				require.NoError(t, err)
				require.Nil(t, d.Suppressed)
				require.Empty(t, d.Held)

				require.Empty(t, pages(h.at(26*time.Minute)))
				require.Equal(t, []string{"oncall#2"}, pages(h.at(27*time.Minute)), "the repeat cadence resumes from the release")
				require.Equal(t, []string{"eng-manager#0"}, pages(h.at(30*time.Minute)), "later steps keep their time")
				for k, n := range h.rec.keys {
					require.Equal(t, 1, n, "idempotency key %s delivered once", k)
				}
			})
		})
	}
}

// Acknowledging a held incident drops the held pages that stop on
// acknowledgement; a held page that stops only on resolution pages once
// the suppression ends, and nothing is held once it resolves.
func TestHeldPagesFollowTheirStopCondition(t *testing.T) {
	forEachDSN(t, testHeldPagesFollowTheirStopCondition)
}

func testHeldPagesFollowTheirStopCondition(t *testing.T, dsn string) {
	h := newHarnessOn(t, dsn, nil)
	h.ingest(checkoutAlert("a"))
	require.Equal(t, []string{"oncall#0"}, pages(h.at(0)))
	h.at(time.Minute)
	silence(t, h, 40*time.Minute, `service="checkout"`)
	require.Empty(t, pages(h.at(5*time.Minute)))
	h.restart() // held steps are durable

	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	require.Empty(t, pages(h.at(10*time.Minute)))
	require.Empty(t, pages(h.at(30*time.Minute)), "Eng Manager (stops on resolve) is held")
	states := map[string]string{}
	jobs, err := h.st.Jobs(context.Background(), 1)
	require.NoError(t, err)
	for _, j := range jobs {
		states[j.Key] = j.State
	}
	require.Equal(t, store.JobCancelled, states["INC-1/page/oncall#1"], "the held On-Call page stopped on the ack")
	require.Equal(t, store.JobHeld, states["INC-1/page/eng-manager#0"])

	h.clk.Advance(10 * time.Minute) // 40m: the silence ended
	n, err := h.st.ReleaseHeld(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"eng-manager#0"}, pages(h.at(40*time.Minute)))

	silence(t, h, 3*time.Hour, `service="checkout"`)
	require.Empty(t, pages(h.at(time.Hour)), "CTO held")
	_, err = h.st.Resolve(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	h.at(61 * time.Minute)
	jobs, err = h.st.Jobs(context.Background(), 1)
	require.NoError(t, err)
	for _, j := range jobs {
		require.NotEqual(t, store.JobHeld, j.State, "%s: resolving drops held pages", j.Key)
	}
	n, err = h.st.ReleaseHeld(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
}
