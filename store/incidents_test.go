package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

func TestListIncidentsFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		for _, a := range []alert.Alert{
			firing("CheckoutDown", "checkout", "f1"),    // INC-1, stays triggered
			firing("CheckoutLatency", "checkout", "f2"), // INC-2, acknowledged
			firing("SearchDown", "search", "f3"),        // INC-3, resolved
			firing("Disk_100%_full", "db-eu", "f4"),     // INC-4
		} {
			_, err := s.Ingest(ctx, []alert.Alert{a})
			require.NoError(t, err)
		}
		_, err := s.Acknowledge(ctx, 2, "alice", "")
		require.NoError(t, err)
		_, err = s.Resolve(ctx, 3, "alice", "")
		require.NoError(t, err)

		cases := []struct {
			name string
			f    IncidentFilter
			want []string
		}{
			{"all, newest first", IncidentFilter{}, []string{"INC-4", "INC-3", "INC-2", "INC-1"}},
			{"service", IncidentFilter{Service: "checkout"}, []string{"INC-2", "INC-1"}},
			{"service is exact", IncidentFilter{Service: "check"}, nil},
			{"open: triggered or acknowledged", IncidentFilter{Open: true}, []string{"INC-4", "INC-2", "INC-1"}},
			{"open of a service", IncidentFilter{Open: true, Service: "search"}, nil},
			{"status", IncidentFilter{Status: alert.IncidentResolved}, []string{"INC-3"}},
			{"text in the title, any case", IncidentFilter{Text: "latency"}, []string{"INC-2"}},
			{"text in the service", IncidentFilter{Text: "SEARCH"}, []string{"INC-3"}},
			{"text is literal: % and _", IncidentFilter{Text: "_100%"}, []string{"INC-4"}},
			{"a wildcard is not one", IncidentFilter{Text: "k%n"}, nil},
			{"text and service", IncidentFilter{Text: "down", Service: "checkout"}, []string{"INC-1"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				list, err := s.ListIncidents(ctx, tc.f)
				require.NoError(t, err)
				var got []string
				for _, inc := range list {
					got = append(got, inc.Key)
				}
				require.Equal(t, tc.want, got)
			})
		}
	})
}

// A sender without times (the probe adapters leave them to the gateway)
// gets starts_at and, when resolved, ends_at from the gateway's clock. Its
// later messages carry no start either: a changed repeat and the
// resolution keep the starts_at of the firing it belongs to, so the alert
// reads down from 10:00 to 10:05, not from its last message on.
func TestResolvedWithoutEndsAtIsStampedOnTheGatewayClock(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		start := clk.Now()
		s := db.openTest(t, clk)
		a := firing("ApiDown", "api", "p1")
		_, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		clk.Advance(2 * time.Minute)
		a.Description = "timeout of 16000ms exceeded" // the probe's message changed
		_, err = s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Len(t, d.Alerts, 1)
		require.Equal(t, a.Description, d.Alerts[0].Description)
		require.True(t, d.Alerts[0].StartsAt.Equal(start), "a changed repeat keeps starts_at: %s", d.Alerts[0].StartsAt)

		clk.Advance(3 * time.Minute)
		a.Status = alert.StatusResolved
		_, err = s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)

		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Len(t, d.Alerts, 1)
		got := d.Alerts[0]
		require.Equal(t, alert.StatusResolved, got.Status)
		require.True(t, got.EndsAt.Equal(clk.Now()), "ends_at %s", got.EndsAt)
		require.True(t, got.StartsAt.Equal(start), "the resolution keeps starts_at: %s", got.StartsAt)

		// Firing again is a new firing: it starts now.
		clk.Advance(time.Minute)
		a.Status = alert.StatusFiring
		res, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Len(t, res.Incidents, 1)
		id, ok := alert.ParseIncidentKey(res.Incidents[0])
		require.True(t, ok)
		d, err = s.GetIncident(ctx, id)
		require.NoError(t, err)
		require.Len(t, d.Alerts, 1)
		require.True(t, d.Alerts[0].StartsAt.Equal(clk.Now()), "a new firing starts now: %s", d.Alerts[0].StartsAt)
	})
}

// The incident keeps the runbook the rules decided: the alert's own
// runbook_url, else the category default.
func TestIncidentRunbook(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := openWithDefaultRules(t, db, newClock())
		own := firing("ApiDown", "api", "a1")
		own.Annotations = map[string]string{"runbook_url": "https://wiki.example.com/api"}
		_, err := s.Ingest(ctx, []alert.Alert{own, firing("WebDown", "web", "w1")})
		require.NoError(t, err)
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Len(t, list, 2)
		runbooks := map[string]string{list[0].Service: list[0].Runbook, list[1].Service: list[1].Runbook}
		require.Equal(t, map[string]string{"api": "https://wiki.example.com/api", "web": "service-outage"}, runbooks)
	})
}
