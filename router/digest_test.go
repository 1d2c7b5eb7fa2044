package router_test

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

func digests(s []sent) []string {
	var out []string
	for _, m := range s {
		if len(m.Step) > 7 && m.Step[:7] == "digest:" {
			out = append(out, m.Step)
		}
	}
	sort.Strings(out)
	return out
}

func info(name, svc string) alert.Alert {
	a := critical(name, svc)
	a.Labels["severity"], a.SeverityHint = "info", "info"
	return a
}

// A P3 incident, as the matrix reads: On-Call at 24h, Team Lead in the
// next-day digest, Eng Manager in the weekly one, the CTO in the monthly
// one — no individual pages for digest cells, each digest sent once.
func TestP3DigestsPerSeedMatrix(t *testing.T) {
	h := newHarness(t, nil) // starts Friday 2026-11-27 10:00 UTC; digests at 09:00 UTC
	h.ingest(info("TypoOnPricingPage", "web"))
	require.Equal(t, alert.P3, incident(t, h, 1).Severity)
	require.Empty(t, pages(h.at(0)))

	// Saturday 09:00: the daily digests (Team Lead for P3, Eng Manager for
	// P2), once, even when the engine runs again.
	got := h.at(23 * time.Hour)
	require.Equal(t, []string{"digest:next-day", "digest:next-day"}, digests(got))
	require.Empty(t, pages(got), "digest cells page nobody")
	require.Empty(t, digests(h.at(23*time.Hour+time.Minute)))

	// Saturday 10:00: On-Call is paged at 24h.
	require.Equal(t, []string{"oncall#0"}, pages(h.at(24*time.Hour)))

	// Monday 09:00: daily digests again, and the weekly ones (Eng Manager
	// for P3, CTO for P2).
	got = h.at(71 * time.Hour)
	require.Equal(t, []string{"digest:next-day", "digest:next-day", "digest:weekly", "digest:weekly"}, digests(got))

	// Tuesday 1 December 09:00: the CTO's monthly digest for P3.
	got = h.at(95 * time.Hour)
	require.Contains(t, digests(got), "digest:monthly")
}

func TestDigestListsIncidentsWithSLA(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Server.ExternalURL = "https://alertgate.example.com/" })
	var texts, links []string
	h.rec.onSend = func(m *notify.Message) {
		if m.Step == "digest:next-day" && m.Role == "team-lead" {
			texts = append(texts, m.Text)
			links = append(links, m.IncidentURL)
		}
	}
	h.ingest(info("TypoOnPricingPage", "web"))
	h.at(0)
	h.at(23 * time.Hour)
	require.Len(t, texts, 1)
	require.Contains(t, texts[0], "INC-1 [P3] TypoOnPricingPage — triggered")
	require.Contains(t, texts[0], "response SLA pending, resolution SLA pending")
	require.Equal(t, []string{"https://alertgate.example.com/"}, links, "the link leads to the console's board, not the API's JSON")
}

// Timers, reminders and digests live in the database: after a restart,
// what fell due while the gateway was down is sent once, and nothing is
// sent twice.
func TestTimersAndDigestsSurviveRestart(t *testing.T) {
	h := newHarness(t, nil)
	h.ingest(info("TypoOnPricingPage", "web"))
	h.ingest(critical("CheckoutDown", "checkout"))
	require.Equal(t, []string{"oncall#0"}, pages(h.at(0)))

	// Down from 1m to 16m: Team Lead (15m), the response SLA breach and
	// the first update reminder (15m) are due when it comes back.
	h.at(time.Minute)
	h.restart()
	got := h.at(16 * time.Minute)
	require.Contains(t, pages(got), "team-lead#0")
	require.Contains(t, steps(got, notify.KindInfo), "chat:sla:response")
	require.Contains(t, steps(got, notify.KindInfo), "chat:remind#0")
	h.restart()
	require.Empty(t, h.at(16*time.Minute+time.Second), "nothing is sent twice after a restart")

	// Down across Saturday 09:00: the next-day digests go out once when it
	// is back, and not again after another restart.
	h.restart()
	require.Equal(t, []string{"digest:next-day", "digest:next-day"}, digests(h.at(23*time.Hour+30*time.Minute)))
	h.restart()
	require.Empty(t, digests(h.at(23*time.Hour+31*time.Minute)))
	for k, n := range h.rec.keys {
		require.Equal(t, 1, n, "delivery %s sent once", k)
	}
}

// Between digest times an idle engine's passes cost the store no digest
// write: the epoch is read once and a sent digest is not claimed again on
// every pass (it is looked at again after a minute, or at the next digest
// time), and the due-work claims (steps, deliveries) look on a reader
// first, so an idle pass begins no write transaction at all; before, the
// delivery claim, the epoch claim and one claim per digest target each
// began one, every pass.
func TestIdleDigestPassesWriteNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.ingest(info("TypoOnPricingPage", "web"))
	h.at(0)
	require.Len(t, digests(h.at(23*time.Hour)), 2)
	writes := func() uint64 { return h.st.WriteTransactions() }
	before := writes()
	for i := 1; i <= 30; i++ {
		require.Empty(t, digests(h.at(23*time.Hour+time.Duration(i)*time.Second)))
	}
	require.Zero(t, writes()-before, "30 idle passes within a minute")

	// After a minute the claims are asked again, once, and refused.
	before = writes()
	require.Empty(t, digests(h.at(23*time.Hour+2*time.Minute)))
	require.Empty(t, digests(h.at(23*time.Hour+2*time.Minute+time.Second)))
	require.Positive(t, writes()-before, "the recheck claims again")
	require.Less(t, writes()-before, uint64(10))

	// The next day's digests go out as before.
	require.Equal(t, []string{"digest:next-day", "digest:next-day"}, digests(h.at(47*time.Hour)))
}
