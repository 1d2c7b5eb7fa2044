package router_test

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router"
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
	h := newHarness(t, nil)
	var texts []string
	h.rec.onSend = func(m *router.Message) {
		if m.Step == "digest:next-day" && m.Role == "team-lead" {
			texts = append(texts, m.Text)
		}
	}
	h.ingest(info("TypoOnPricingPage", "web"))
	h.at(0)
	h.at(23 * time.Hour)
	require.Len(t, texts, 1)
	require.Contains(t, texts[0], "INC-1 [P3] TypoOnPricingPage — triggered")
	require.Contains(t, texts[0], "response SLA pending, resolution SLA pending")
}
