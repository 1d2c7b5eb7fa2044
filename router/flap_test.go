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
)

func resolvedCopy(a alert.Alert) alert.Alert {
	a.Status = alert.StatusResolved
	return a
}

func incident(t *testing.T, h *harness, id int64) alert.Incident {
	t.Helper()
	d, err := h.st.GetIncident(context.Background(), id)
	require.NoError(t, err)
	return d.Incident
}

func pages(s []sent) []string {
	var out []string
	for _, m := range s {
		if m.Kind == notify.KindPage {
			out = append(out, m.Step)
		}
	}
	return out
}

// messages records every message delivered from now on.
func messages(h *harness) *[]notify.Message {
	var out []notify.Message
	h.rec.onSend = func(m *notify.Message) { out = append(out, *m) } // under the recorder's lock
	return &out
}

// flap resolves a at resolveAt and fires it again at fireAt; it returns
// what was sent at fireAt.
func flap(t *testing.T, h *harness, a alert.Alert, resolveAt, fireAt time.Duration) []sent {
	t.Helper()
	h.at(resolveAt)
	h.ingest(resolvedCopy(a))
	h.at(resolveAt)
	h.at(fireAt)
	h.ingest(a)
	return h.at(fireAt)
}

func TestReopenAfterAckPagesAgain(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(nil)
		a := critical("CheckoutDown", "checkout")
		h.ingest(a)
		require.Equal(t, []string{"oncall#0"}, pages(h.at(0)))
		_, err := h.st.Acknowledge(context.Background(), 1, "alice", "on it")
		require.NoError(t, err)
		h.at(time.Minute)

		// Resolved at 2m, fires again at 4m: the earlier ack does not
		// carry over; the channel is told and escalation starts again
		// from its first step.
		msgs := messages(h)
		got := flap(t, h, a, 2*time.Minute, 4*time.Minute)
		require.Equal(t, []sent{
			{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents", At: 4 * time.Minute},
			{Target: "pager", Kind: notify.KindPage, Step: "oncall#0", At: 4 * time.Minute},
		}, got)
		inc := incident(t, h, 1)
		require.Equal(t, alert.IncidentTriggered, inc.Status)
		require.Equal(t, 1, inc.Flaps)
		require.False(t, inc.Flapping)
		require.Empty(t, inc.AcknowledgedBy)
		require.True(t, inc.AcknowledgedAt.IsZero())
		var reopen []notify.Message
		for _, m := range *msgs {
			if m.Kind == notify.KindResolve || strings.Contains(m.IdempotencyKey, "postmortem") {
				require.Zero(t, m.Flap, "the resolution belongs to no reopen")
				continue
			}
			reopen = append(reopen, m)
		}
		require.Len(t, reopen, 2)
		for _, m := range reopen {
			require.Equal(t, 1, m.Flap, m.Step)
			require.False(t, m.Flapping)
			require.Equal(t, "REOPENED (flap #1) [P0] INC-1 checkout: CheckoutDown", m.Summary, m.Step)
		}
		require.Equal(t, []string{"oncall#1"}, pages(h.at(9*time.Minute)), "the reopened page repeats until acknowledged")
		require.Equal(t, "REOPENED (flap #1) [P0] INC-1 checkout: CheckoutDown", (*msgs)[len(*msgs)-1].Summary)
		require.Equal(t, []string{"oncall#2"}, pages(h.at(14*time.Minute)))
		require.Equal(t, []string{"oncall#3", "team-lead#0"}, pages(h.at(19*time.Minute)), "Team Lead 15m after the reopen")

		d, err := h.st.GetIncident(context.Background(), 1)
		require.NoError(t, err)
		var reopened []string
		for _, ev := range d.Timeline {
			if ev.Kind == alert.EventReopened {
				reopened = append(reopened, ev.Detail)
			}
		}
		require.Equal(t, []string{"alert CheckoutDowncheckout fired again 2m0s after resolution (flap #1); " +
			"the acknowledgement by alice does not carry over; escalation starts again"}, reopened)
	})
}

func TestFlappingPagesOnceThenOnlyTellsTheChannel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(nil) // reopen_within 10m; flapping: 3 reopens within 1h
		a := critical("CheckoutDown", "checkout")
		h.ingest(a)
		require.Equal(t, []string{"oncall#0"}, pages(h.at(0)))
		require.Equal(t, []string{"oncall#0"}, pages(flap(t, h, a, time.Minute, 2*time.Minute)), "flap #1 escalates afresh")
		require.Equal(t, []string{"oncall#0"}, pages(flap(t, h, a, 3*time.Minute, 4*time.Minute)), "flap #2 escalates afresh")
		require.False(t, incident(t, h, 1).Flapping)

		// The third reopen within the hour: flapping, one page.
		msgs := messages(h)
		got := flap(t, h, a, 5*time.Minute, 6*time.Minute)
		require.Equal(t, []sent{
			{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents", At: 6 * time.Minute},
			{Target: "pager", Kind: notify.KindPage, Step: "oncall#0", At: 6 * time.Minute},
		}, got)
		require.True(t, incident(t, h, 1).Flapping)
		page := (*msgs)[len(*msgs)-1]
		if page.Kind != notify.KindPage {
			page = (*msgs)[len(*msgs)-2]
		}
		require.Equal(t, notify.KindPage, page.Kind)
		require.True(t, page.Flapping)
		require.Equal(t, 3, page.Flap)
		require.Equal(t, "REOPENED (flap #3) FLAPPING [P0] INC-1 checkout: CheckoutDown", page.Summary)
		for _, off := range []time.Duration{11 * time.Minute, 16 * time.Minute, 30 * time.Minute} {
			require.Empty(t, h.at(off), "the flapping page does not repeat, nothing else escalates (%s)", off)
		}

		// Resolved at 30m, fires at 50m: later than reopen_within, but it
		// has not stayed resolved for the window: still flapping, the
		// same incident, only the channel hears of it.
		*msgs = nil
		got = flap(t, h, a, 30*time.Minute, 50*time.Minute)
		require.Equal(t, []sent{{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents", At: 50 * time.Minute}}, got)
		inc := incident(t, h, 1)
		require.Equal(t, 4, inc.Flaps)
		require.True(t, inc.Flapping)
		require.Equal(t, "REOPENED (flap #4) FLAPPING [P0] INC-1 checkout: CheckoutDown", (*msgs)[len(*msgs)-1].Summary)
		var kinds []string
		for _, m := range *msgs {
			kinds = append(kinds, m.StepType)
		}
		require.Contains(t, kinds, "resolve", "the channel hears of the resolution at 30m")
		require.NotContains(t, kinds, "postmortem", "no resolution summary per flap while flapping")
		require.Empty(t, h.at(80*time.Minute))

		// Resolved for the whole window: the next firing is a new
		// incident that pages as usual.
		got = flap(t, h, a, 81*time.Minute, 141*time.Minute)
		require.Equal(t, []string{"oncall#0"}, pages(got))
		list, err := h.st.ListIncidents(context.Background(), storeFilter())
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.False(t, list[0].Flapping, "INC-2 starts afresh")
		require.Equal(t, 4, incident(t, h, 1).Flaps)
	})
}

// With a reopen window longer than the flapping window, an incident that
// stayed resolved for the flapping window reopens as an ordinary flap.
func TestFlappingEndsOnceResolvedForTheWindow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(func(c *config.Config) {
			c.Dedup.ReopenWithin = config.Duration(2 * time.Hour)
			c.Dedup.Flapping = config.Flapping{Reopens: 2, Window: config.Duration(30 * time.Minute)}
		})
		a := critical("CheckoutDown", "checkout")
		h.ingest(a)
		h.at(0)
		require.Equal(t, []string{"oncall#0"}, pages(flap(t, h, a, time.Minute, 2*time.Minute)))
		require.Equal(t, []string{"oncall#0"}, pages(flap(t, h, a, 3*time.Minute, 4*time.Minute)), "flapping: one page")
		require.True(t, incident(t, h, 1).Flapping)
		require.Empty(t, pages(flap(t, h, a, 5*time.Minute, 20*time.Minute)), "resolved 15m < 30m: still flapping")
		require.Empty(t, pages(h.at(30*time.Minute)))

		got := flap(t, h, a, 31*time.Minute, 62*time.Minute)
		require.Equal(t, []string{"oncall#0"}, pages(got), "resolved 31m >= 30m: no longer flapping, escalates afresh")
		inc := incident(t, h, 1)
		require.False(t, inc.Flapping)
		require.Equal(t, 4, inc.Flaps)
		require.Equal(t, []string{"oncall#1"}, pages(h.at(67*time.Minute)))
	})
}

func TestFlappingOffEveryReopenPages(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		h := newHarnessOn(t, dsn, func(c *config.Config) { c.Dedup.Flapping.Reopens = 0 })
		a := critical("CheckoutDown", "checkout")
		h.ingest(a)
		h.at(0)
		for i := range 5 {
			at := time.Duration(2*i+2) * time.Minute
			require.Equal(t, []string{"oncall#0"}, pages(flap(t, h, a, at-time.Minute, at)), "flap #%d", i+1)
		}
		require.False(t, incident(t, h, 1).Flapping)
	})
}

// The on-call repeat follows the severity: P0 and P1 pages repeat every
// 5 minutes by default, P2 pages once; repeat.severities changes that.
func TestOnCallRepeatPerSeverity(t *testing.T) {
	p1 := critical("QueueBacklog", "worker")
	p1.Labels = map[string]string{"alertname": "QueueBacklog", "service": "worker", "severity": "high"}
	p1.SeverityHint = "high"
	p2 := critical("QueueBacklog", "worker")
	p2.Labels = map[string]string{"alertname": "QueueBacklog", "service": "worker", "severity": "warning"}
	p2.SeverityHint = "warning"
	onlyP2 := func(c *config.Config) { c.Escalation.Matrix[0].Repeat.Severities = []string{"P2"} }
	tests := []struct {
		name   string
		mutate func(*config.Config)
		a      alert.Alert
		sev    alert.Severity
		first  time.Duration // when the On-Call page is due
		repeat bool
	}{
		{"P0 repeats", nil, critical("CheckoutDown", "checkout"), alert.P0, 0, true},
		{"P1 repeats", nil, p1, alert.P1, 0, true},
		{"P2 pages once", nil, p2, alert.P2, 2 * time.Hour, false},
		{"P2 repeats when configured", onlyP2, p2, alert.P2, 2 * time.Hour, true},
		{"P0 then pages once", onlyP2, critical("CheckoutDown", "checkout"), alert.P0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachDSN(t, func(t *testing.T, dsn string) {
				h := newHarnessOn(t, dsn, tt.mutate)
				h.ingest(tt.a)
				require.Equal(t, tt.sev, incident(t, h, 1).Severity)
				h.at(tt.first - time.Minute)
				require.Equal(t, []string{"oncall#0"}, pages(h.at(tt.first)))
				var want []string
				if tt.repeat {
					want = []string{"oncall#1"}
				}
				require.Equal(t, want, pages(h.at(tt.first+5*time.Minute)))
				if tt.repeat {
					want = []string{"oncall#2"}
				}
				require.Equal(t, want, pages(h.at(tt.first+10*time.Minute)))
			})
		})
	}
}

func TestFiringAfterReopenWindowOpensNewIncident(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		h := newHarnessOn(t, dsn, nil)
		a := critical("CheckoutDown", "checkout")
		h.ingest(a)
		h.at(0)
		h.clk.Advance(time.Minute)
		h.ingest(resolvedCopy(a))
		h.clk.Advance(11 * time.Minute)
		res, err := h.st.Ingest(context.Background(), []alert.Alert{a})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-2"}, res.Incidents)
		require.Equal(t, []string{"oncall#0"}, pages(h.at(12*time.Minute)))
	})
}

func TestSeverityRaiseReplansAtOnce(t *testing.T) {
	h := newHarness(t, nil)
	warn := critical("CheckoutErrors", "checkout")
	warn.Fingerprint, warn.SeverityHint = "w1", "warning"
	warn.Labels = map[string]string{"alertname": "CheckoutErrors", "service": "checkout", "severity": "warning"}
	h.ingest(warn)
	got := h.at(0)
	require.Equal(t, []sent{{Target: "chat", Kind: notify.KindInfo, Step: "announce:#alerts"}}, got, "P2: #alerts told, On-Call only at 2h")
	require.Equal(t, alert.P2, incident(t, h, 1).Severity)

	// 20 minutes in, a critical alert joins the group: P0 now, and every
	// P0 step already due pages at once.
	h.clk.Advance(20 * time.Minute)
	crit := critical("CheckoutErrors", "checkout")
	crit.Fingerprint = "c1"
	h.ingest(crit)
	inc := incident(t, h, 1)
	require.Equal(t, alert.P0, inc.Severity)
	require.Equal(t, inc.OpenedAt.Add(15*time.Minute), inc.AckDue)
	got = h.at(20 * time.Minute)
	require.Equal(t, []string{"oncall#0", "team-lead#0"}, pages(got))
	require.Contains(t, got, sent{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents", At: 20 * time.Minute})

	// A warning arriving later never lowers it; the P2 On-Call step at 2h
	// was replaced by the P0 plan.
	h.clk.Advance(time.Minute)
	warn2 := warn
	warn2.Fingerprint = "w2"
	h.ingest(warn2)
	require.Equal(t, alert.P0, incident(t, h, 1).Severity)
	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "")
	require.NoError(t, err)
	for _, off := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		for _, p := range pages(h.at(off)) {
			require.NotEqual(t, "oncall#0", p, "no P2-era On-Call page at %s", off)
		}
	}
}

// A flapping incident that stays resolved for the window stops flapping:
// the mark is cleared and the resolution summary held back while it
// flapped goes to the channel, once. A reopen in between makes the
// earlier resolution's end moot.
func TestFlappingIncidentStaysResolvedForTheWindow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(func(*config.Config)) *harness) {
		h := newH(nil) // reopen_within 10m; flapping: 3 reopens within 1h
		a := critical("CheckoutDown", "checkout")
		h.ingest(a)
		h.at(0)
		flap(t, h, a, time.Minute, 2*time.Minute)
		flap(t, h, a, 3*time.Minute, 4*time.Minute)
		flap(t, h, a, 5*time.Minute, 6*time.Minute)
		require.True(t, incident(t, h, 1).Flapping)

		flap(t, h, a, 7*time.Minute, 8*time.Minute) // its 7m resolution is moot
		h.at(9 * time.Minute)
		h.ingest(resolvedCopy(a))
		h.at(9 * time.Minute)
		msgs := messages(h)
		require.Empty(t, h.at(67*time.Minute), "the 7m resolution's end: reopened since, nothing")
		require.True(t, incident(t, h, 1).Flapping)
		require.Empty(t, h.at(69*time.Minute-time.Second), "not yet resolved for the window")

		h.at(69 * time.Minute)
		require.False(t, incident(t, h, 1).Flapping)
		var kinds []string
		for _, m := range *msgs {
			kinds = append(kinds, m.StepType)
		}
		require.Equal(t, []string{"postmortem"}, kinds, "the resolution summary, once")
		require.Len(t, timeline(t, h, alert.EventFlapEnded), 1)
		h.at(3 * time.Hour)
		for _, m := range (*msgs)[1:] {
			require.NotEqual(t, "postmortem", m.StepType, "the summary goes out once")
		}
	})
}
