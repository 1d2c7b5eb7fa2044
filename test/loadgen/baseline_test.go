package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseOnlyBaseline(t *testing.T) {
	s, err := newStorm(time.Now())
	require.NoError(t, err)
	app := newBaselineApp(parseOnly)
	tests := []struct {
		name string
		body string
		want int
	}{
		{name: "alertmanager body", body: string(s.forWorker()(1)), want: 200},
		{name: "not JSON", body: "{", want: 400},
		{name: "no alerts", body: `{"version":"4","alerts":[]}`, want: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/alertmanager", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := app.Test(req)
			require.NoError(t, err)
			require.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

// The client counts alerts, not requests, when a request carries several.
func TestClientCountsAlertsOfGroupedRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	app := newBaselineApp(parseOnly)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })

	g, err := newGroupedStorm(7, time.Now())
	require.NoError(t, err)
	c := newLoadClient([]string{ln.Addr().String()}, 3, g)
	defer c.close()
	st := c.runCount(context.Background(), 10)
	require.Zero(t, st.failures(), st.failureSummary())
	require.Equal(t, uint64(10), st.ok)
	require.Equal(t, uint64(70), st.alerts)
	require.InDelta(t, 70/st.elapsed.Seconds(), st.rate(), 1e-6)
}
