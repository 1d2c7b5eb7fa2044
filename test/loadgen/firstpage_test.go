package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMatchFirstPages(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	service := func(id uint64) string { return fmt.Sprintf("svc-%d", id) }
	isP0 := func(id uint64) bool { return id%2 == 0 }
	pages := map[string]pageArrival{
		"svc-0": {at: ms(110), severity: "P0"}, // 100 ms after its 2xx
		"svc-2": {at: ms(150), severity: "P0"}, // before its 2xx: early, 0
		"svc-4": {at: ms(500), severity: "P1"}, // 300 ms, not P0
		"svc-1": {at: ms(999), severity: "P1"}, // not a P0 request: ignored
	}
	arrived := func(s string) (pageArrival, bool) { p, ok := pages[s]; return p, ok }
	acks := []ack{{0, ms(10)}, {1, ms(20)}, {2, ms(200)}, {3, ms(30)}, {4, ms(200)}, {6, ms(1000)}}

	got := matchFirstPages(acks, isP0, service, arrived, ms(3000)) // svc-6 never paged: 2 s

	require.Equal(t, firstPages{Incidents: 4, Paged: 3, Early: 1, Wrong: 1,
		P50: 100 * time.Millisecond, P99: 2 * time.Second, Max: 2 * time.Second}, got)
	require.Equal(t, 1, got.missing())
}

func TestMatchFirstPagesNone(t *testing.T) {
	got := matchFirstPages(nil, func(uint64) bool { return true }, func(uint64) string { return "" },
		func(string) (pageArrival, bool) { return pageArrival{}, false }, time.Now())
	require.Equal(t, firstPages{}, got)
}

func TestNearestRank(t *testing.T) {
	tests := []struct{ n, p, want int }{
		{1, 50, 0}, {1, 99, 0}, {2, 50, 0}, {2, 99, 1}, {100, 50, 49}, {100, 99, 98}, {101, 99, 99}, {1000, 99, 989},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n%d/p%d", tc.n, tc.p), func(t *testing.T) {
			require.Equal(t, tc.want, nearestRank(tc.n, tc.p))
		})
	}
}

// The page sink keeps the first page of each incident by service, and
// only pages.
func TestPageSink(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s, err := startPageSink(ctx)
	require.NoError(t, err)
	post := func(body string) {
		resp, err := http.Post(s.url, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	post(`{"version":"1","kind":"info","incident":{"id":"INC-1","severity":"P0","service":"svc-1"}}`)
	_, ok := s.arrived("svc-1")
	require.False(t, ok, "an announcement is not a page")

	before := time.Now()
	post(`{"version":"1","kind":"page","role":"oncall","incident":{"id":"INC-1","severity":"P0","service":"svc-1"}}`)
	first, ok := s.arrived("svc-1")
	require.True(t, ok)
	require.Equal(t, "P0", first.severity)
	require.False(t, first.at.Before(before))
	post(`{"version":"1","kind":"page","role":"team-lead","incident":{"id":"INC-1","severity":"P0","service":"svc-1"}}`)
	again, _ := s.arrived("svc-1")
	require.Equal(t, first, again, "only the first page counts")

	require.Less(t, time.Since(s.waitFor(ctx, []string{"svc-1"}, time.Minute)), time.Minute)
	s.reset()
	_, ok = s.arrived("svc-1")
	require.False(t, ok)
}

// The incident storms hold P0 alerts under the default rules, and the
// service the tool expects for a request is the one in its body.
func TestIncidentWorkloads(t *testing.T) {
	all, err := newWorkloads(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), 25)
	require.NoError(t, err)
	for _, name := range []string{"incident", "incident-grouped"} {
		t.Run(name, func(t *testing.T) {
			wl := all[name]
			require.NotNil(t, wl.IsP0)
			body := wl.Gen.forWorker()
			p0 := 0
			for id := uint64(timedBase); id < timedBase+numGroups; id++ {
				require.True(t, bytes.Contains(body(id), []byte(`"service":"`+wl.Service(id)+`"`)), "request %d", id)
				if wl.IsP0(id) {
					p0++
					require.Contains(t, string(body(id)), `"severity":"critical"`)
				}
			}
			require.Positive(t, p0)
		})
	}
	require.Nil(t, all["storm"].IsP0, "the storm opens no incident per request")
}
