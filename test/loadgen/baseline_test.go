package main

import (
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
	app := newBaselineApp()
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
