package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

func TestIngest(t *testing.T) {
	tests := []struct {
		name           string
		path           string
		body           string
		headers        []string
		ingest         func(ctx context.Context, alerts []alert.Alert) (store.IngestResult, error)
		wantCode       int
		wantBody       string // exact JSON, when set
		wantErr        string // exact error reason, when set
		wantRetryAfter bool
		wantIngested   int
	}{
		{
			name: "firing and resolved", path: "/api/v1/alerts/am",
			body: `{"alerts":[{"status":"firing","name":"a"},{"status":"resolved","name":"b"}]}`,
			ingest: func(_ context.Context, alerts []alert.Alert) (store.IngestResult, error) {
				return store.IngestResult{Alerts: len(alerts), Unchanged: 1, Incidents: []string{"INC-1", "INC-2"}}, nil
			},
			wantCode: http.StatusOK, wantIngested: 1,
			wantBody: `{"status":"ok","alerts":2,"unchanged":1,"suppressed":0,"incidents":["INC-1","INC-2"]}`,
		},
		{
			name: "no incidents is an empty list", path: "/api/v1/alerts/am", body: alertBody,
			ingest: func(context.Context, []alert.Alert) (store.IngestResult, error) {
				return store.IngestResult{Alerts: 1, Unchanged: 1}, nil
			},
			wantCode: http.StatusOK, wantIngested: 1,
			wantBody: `{"status":"ok","alerts":1,"unchanged":1,"suppressed":0,"incidents":[]}`,
		},
		{
			name: "suppressed alerts are counted", path: "/api/v1/alerts/am", body: alertBody,
			ingest: func(context.Context, []alert.Alert) (store.IngestResult, error) {
				return store.IngestResult{Alerts: 1, Suppressed: 1}, nil
			},
			wantCode: http.StatusOK, wantIngested: 1,
			wantBody: `{"status":"ok","alerts":1,"unchanged":0,"suppressed":1,"incidents":[]}`,
		},
		{
			name: "zero alerts skips the store", path: "/api/v1/alerts/am", body: `{"alerts":[]}`,
			wantCode: http.StatusOK, wantBody: `{"status":"ok","alerts":0,"unchanged":0,"suppressed":0,"incidents":[]}`,
		},
		{
			name: "mislabelled content type is still decoded", path: "/api/v1/alerts/am", body: alertBody,
			headers:  []string{"Content-Type", "text/plain"},
			wantCode: http.StatusOK, wantIngested: 1,
		},
		{
			name: "unknown source", path: "/api/v1/alerts/nope", body: alertBody,
			wantCode: http.StatusNotFound, wantErr: `unknown source "nope"`,
		},
		{
			name: "empty body", path: "/api/v1/alerts/am",
			wantCode: http.StatusBadRequest, wantErr: "bad payload: empty body",
		},
		{
			name: "blank body", path: "/api/v1/alerts/am", body: " \n",
			wantCode: http.StatusBadRequest, wantErr: "bad payload: empty body",
		},
		{
			name: "malformed payload keeps the decoder's reason", path: "/api/v1/alerts/am", body: `{"alerts":[{"name":"x"}]}`,
			wantCode: http.StatusBadRequest, wantErr: "bad payload: alerts[0].status: missing",
		},
		{
			name: "not JSON", path: "/api/v1/alerts/am", body: `<xml/>`,
			wantCode: http.StatusBadRequest, wantErr: "bad payload: invalid character '<' looking for beginning of value",
		},
		{
			name: "compressed body", path: "/api/v1/alerts/am", body: alertBody,
			headers:  []string{"Content-Encoding", "gzip"},
			wantCode: http.StatusUnsupportedMediaType, wantErr: `content-encoding "gzip" not supported; send the body uncompressed`,
		},
		{
			name: "storage unavailable asks to retry", path: "/api/v1/alerts/am", body: alertBody,
			ingest: func(context.Context, []alert.Alert) (store.IngestResult, error) {
				return store.IngestResult{}, fmt.Errorf("commit: %w", store.ErrUnavailable)
			},
			wantCode: http.StatusServiceUnavailable, wantErr: "storage unavailable, retry later", wantRetryAfter: true, wantIngested: 1,
		},
		{
			name: "ingest deadline asks to retry", path: "/api/v1/alerts/am", body: alertBody,
			ingest: func(ctx context.Context, _ []alert.Alert) (store.IngestResult, error) {
				<-ctx.Done() // the per-request timeout must fire
				return store.IngestResult{}, ctx.Err()
			},
			wantCode: http.StatusServiceUnavailable, wantErr: "timed out, retry later", wantRetryAfter: true, wantIngested: 1,
		},
		{
			name: "unexpected store error hides details", path: "/api/v1/alerts/am", body: alertBody,
			ingest: func(context.Context, []alert.Alert) (store.IngestResult, error) {
				return store.IngestResult{}, errors.New("pq: relation incidents does not exist at 10.0.0.7")
			},
			wantCode: http.StatusInternalServerError, wantErr: "internal error", wantIngested: 1,
		},
		{
			name: "conflict from the store is not transient", path: "/api/v1/alerts/am", body: alertBody,
			ingest: func(context.Context, []alert.Alert) (store.IngestResult, error) {
				return store.IngestResult{}, fmt.Errorf("attach: %w", store.ErrConflict)
			},
			wantCode: http.StatusConflict, wantErr: "ingest 1 alerts: attach: conflict", wantIngested: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
			h.srv.timeout = 1 // nanosecond: only the deadline case waits on it
			if tt.ingest != nil {
				h.ing.fn = tt.ingest
			} else {
				h.srv.timeout = requestTimeout
			}
			resp, body := h.do(t, newRequest(http.MethodPost, tt.path, tt.body, tt.headers...))
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			require.Equal(t, "application/json", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
			if tt.wantBody != "" {
				require.JSONEq(t, tt.wantBody, body)
			}
			if tt.wantErr != "" {
				require.Equal(t, tt.wantErr, errorOf(t, body))
			}
			if tt.wantRetryAfter {
				require.Equal(t, "5", resp.Header.Get("Retry-After"))
			} else {
				require.Empty(t, resp.Header.Get("Retry-After"))
			}
			require.Equal(t, tt.wantIngested, h.ing.callCount())
		})
	}
}

func TestIngestPassesDecodedAlerts(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	resp, _ := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", `{"alerts":[{"status":"firing","name":"DiskFull"}]}`))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, h.ing.calls, 1)
	require.Equal(t, []alert.Alert{{Source: "am", SourceType: "test", Status: alert.StatusFiring, Fingerprint: "DiskFull", Title: "DiskFull"}}, h.ing.calls[0])
}

func TestIngestHeadersReachDecoder(t *testing.T) {
	var got string
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	h.srv.table().lookup("am").decoder = decoderFunc(func(hd adapters.Header, _ []byte) (adapters.Batch, error) {
		got = hd.Get("User-Agent")
		return adapters.Batch{}, nil
	})
	resp, _ := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody, "User-Agent", "Alertmanager/0.28.1"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "Alertmanager/0.28.1", got)
}

func TestDecoderFailureIsInternal(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	h.srv.table().lookup("am").decoder = decoderFunc(func(adapters.Header, []byte) (adapters.Batch, error) {
		return adapters.Batch{}, errors.New("template engine exploded")
	})
	resp, body := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody))
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Equal(t, "internal error", errorOf(t, body))
	failed := h.logs.FilterMessage("request failed").All()
	require.Len(t, failed, 1)
	require.Contains(t, failed[0].ContextMap()["error"], "decode test: template engine exploded")
}

// TestBodyTooLarge runs over a real connection: fasthttp rejects the body
// while reading the request, before routing, and app.Test reports that
// as a transport error instead of returning the response.
func TestBodyTooLarge(t *testing.T) {
	h := newHarness(t, config.Server{MaxBodyBytes: 1 << 20}, config.Source{Name: "am", Type: "test"})
	base := serve(t, h.srv)
	// Far more than the socket buffers hold: without the lingering close
	// the client sees a connection reset instead of the 413.
	huge := strings.Repeat("x", 8<<20)
	for i := range 3 {
		resp, body := post(t, base+"/api/v1/alerts/am", huge)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "attempt %d", i)
		require.Equal(t, "request body too large (limit 1048576 bytes)", errorOf(t, body))
	}
	require.Zero(t, h.ing.callCount())
}

func TestBodyTooLargeMetricsAndLog(t *testing.T) {
	h := newHarness(t, config.Server{MaxBodyBytes: 64}, config.Source{Name: "am", Type: "test"})
	base := serve(t, h.srv)
	big := `{"alerts":[` + strings.Repeat(`{"status":"firing","name":"x"},`, 10) + `{"status":"firing","name":"x"}]}`

	resp, body := post(t, base+"/api/v1/alerts/am", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Equal(t, "request body too large (limit 64 bytes)", errorOf(t, body))
	require.Zero(t, h.ing.callCount())
	require.Equal(t, 1.0, metricValue(t, h.reg, "alertgate_ingest_requests_total", map[string]string{"source": "am", "code": "413"}))
	rejected := h.logs.FilterMessage("request rejected").All()
	require.Len(t, rejected, 1)
	require.Equal(t, "am", rejected[0].ContextMap()["source"])

	resp, _ = post(t, base+"/api/v1/alerts/am", alertBody)
	require.Equal(t, http.StatusOK, resp.StatusCode, "a body within the limit still passes")
}

func TestPanickingIngesterIs500AndServerKeepsServing(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	h.ing.fn = func(context.Context, []alert.Alert) (store.IngestResult, error) {
		panic("nil map write in the store")
	}
	resp, body := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody))
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Equal(t, "internal error", errorOf(t, body))

	panics := h.logs.FilterMessage("request panicked").All()
	require.Len(t, panics, 1)
	require.Contains(t, panics[0].ContextMap()["error"], "nil map write in the store")
	require.Contains(t, panics[0].ContextMap()["stack"], "server.(*Server).ingest")
	require.Equal(t, 1.0, metricValue(t, h.reg, "alertgate_ingest_requests_total", map[string]string{"source": "am", "code": "500"}))

	h.ing.fn = nil
	resp, _ = h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody))
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestIngestMetrics(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	send := func(path, body string) int {
		resp, _ := h.do(t, newRequest(http.MethodPost, path, body))
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, send("/api/v1/alerts/am", `{"alerts":[{"status":"firing","name":"a"},{"status":"firing","name":"b"},{"status":"resolved","name":"c"}],"truncated":7}`))
	require.Equal(t, http.StatusOK, send("/api/v1/alerts/am", alertBody))
	require.Equal(t, http.StatusBadRequest, send("/api/v1/alerts/am", `nope`))
	require.Equal(t, http.StatusNotFound, send("/api/v1/alerts/random-1", alertBody))
	require.Equal(t, http.StatusNotFound, send("/api/v1/alerts/random-2", alertBody))

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"alertgate_ingest_requests_total", map[string]string{"source": "am", "code": "200"}, 2},
		{"alertgate_ingest_requests_total", map[string]string{"source": "am", "code": "400"}, 1},
		{"alertgate_ingest_requests_total", map[string]string{"source": "unknown", "code": "404"}, 2},
		{"alertgate_alerts_received_total", map[string]string{"source": "am", "status": "firing"}, 3},
		{"alertgate_alerts_received_total", map[string]string{"source": "am", "status": "resolved"}, 1},
		{"alertgate_alerts_truncated_total", map[string]string{"source": "am"}, 7},
		{"alertgate_ingest_duration_seconds", map[string]string{"source": "am"}, 3},
		{"alertgate_ingest_duration_seconds", map[string]string{"source": "unknown"}, 2},
	} {
		t.Run(fmt.Sprintf("%s%v", c.name, c.labels), func(t *testing.T) {
			require.Equal(t, c.want, metricValue(t, h.reg, c.name, c.labels))
		})
	}

	truncated := h.logs.FilterMessage("sender truncated alerts").All()
	require.Len(t, truncated, 1)
	require.Equal(t, int64(7), truncated[0].ContextMap()["truncated"])
	require.Len(t, h.logs.FilterMessage("alerts accepted").All(), 2)
	require.Len(t, h.logs.FilterMessage("request rejected").All(), 3)
}

func TestSetSources(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	status := func(path string) int {
		resp, _ := h.do(t, newRequest(http.MethodPost, path, alertBody))
		return resp.StatusCode
	}

	require.NoError(t, h.srv.SetSources([]config.Source{{Name: "grafana", Type: "test", Auth: bearerAuth}}))
	require.Equal(t, http.StatusNotFound, status("/api/v1/alerts/am"))
	require.Equal(t, http.StatusUnauthorized, status("/api/v1/alerts/grafana"))

	err := h.srv.SetSources([]config.Source{{Name: "am", Type: "test"}, {Name: "bad", Type: "broken"}})
	require.ErrorContains(t, err, `source "bad"`)
	require.Equal(t, http.StatusNotFound, status("/api/v1/alerts/am"), "a failed reload keeps the old table")
	require.Equal(t, http.StatusUnauthorized, status("/api/v1/alerts/grafana"))
}

func TestIngestResponseShape(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	resp, body := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got ingestResponse
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, ingestResponse{Status: "ok", Alerts: 1, Incidents: []string{"INC-1"}}, got)
}
