package server

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// TestRealAdapters runs real payloads (testdata, copied from the shared
// fixtures) through the default decoders (adapters.New), with Grafana's
// own HMAC scheme on the Grafana source.
func TestRealAdapters(t *testing.T) {
	am, err := os.ReadFile("testdata/alertmanager-firing.json")
	require.NoError(t, err)
	grafana, err := os.ReadFile("testdata/grafana-firing.json")
	require.NoError(t, err)

	ing := &fakeIngester{}
	srv, err := New(config.Server{}, []config.Source{
		{Name: "prometheus", Type: "alertmanager", Auth: bearerAuth},
		{Name: "grafana", Type: "grafana", Auth: grafanaTS},
	}, Deps{Ingester: ing, Incidents: &fakeIncidents{}, Actions: &fakeActions{}, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	h := &harness{srv: srv, ing: ing}
	ts := unixTS(testNow)

	tests := []struct {
		name       string
		path       string
		body       string
		headers    []string
		wantCode   int
		wantAlerts int
		wantErr    string
	}{
		{
			name: "alertmanager fixture", path: "/api/v1/alerts/prometheus", body: string(am),
			headers:  []string{"Authorization", "Bearer " + testToken, "User-Agent", "Alertmanager/0.27.0"},
			wantCode: http.StatusOK, wantAlerts: 1,
		},
		{
			name: "grafana fixture, signed", path: "/api/v1/alerts/grafana", body: string(grafana),
			headers:  []string{"X-Grafana-Alerting-Timestamp", ts, "X-Grafana-Alerting-Signature", sign(testHMACKey, ts, string(grafana))},
			wantCode: http.StatusOK, wantAlerts: 2,
		},
		{
			name: "alertmanager malformed", path: "/api/v1/alerts/prometheus", body: `{"version":"4","alerts":[{"status":"firing","labels":"x"}]}`,
			headers:  []string{"Authorization", "Bearer " + testToken},
			wantCode: http.StatusBadRequest, wantErr: "bad payload: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ing.callCount()
			resp, body := h.do(t, newRequest(http.MethodPost, tt.path, tt.body, tt.headers...))
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			if tt.wantErr != "" {
				require.Contains(t, errorOf(t, body), tt.wantErr)
				require.Equal(t, before, ing.callCount())
				return
			}
			require.Equal(t, before+1, ing.callCount())
			got := ing.calls[before]
			require.Len(t, got, tt.wantAlerts)
			for _, a := range got {
				require.Equal(t, alert.StatusFiring, a.Status)
				require.NotEmpty(t, a.Fingerprint)
			}
		})
	}
}
