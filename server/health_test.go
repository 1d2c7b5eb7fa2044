package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// serve runs srv on a loopback port until the test ends.
func serve(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Shutdown(context.Background()))
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String()
}

func post(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestHealthz(t *testing.T) {
	for _, path := range []string{"/healthz", "/-/healthy"} {
		t.Run(path, func(t *testing.T) {
			h := newHarness(t, config.Server{APIToken: "s3cret"})
			h.ping = errors.New("database is locked")
			resp, body := h.do(t, newRequest(http.MethodGet, path, ""))
			require.Equal(t, http.StatusOK, resp.StatusCode, "open without the API token")
			require.Equal(t, "ok", body, "liveness does not depend on storage")
		})
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name     string
		ping     error
		wantCode int
		wantBody string
		wantErr  string
	}{
		{name: "ready", wantCode: http.StatusOK, wantBody: "ok"},
		{name: "storage down", ping: errors.New("dial tcp 10.1.2.3:5432: connection refused"), wantCode: http.StatusServiceUnavailable, wantErr: "not ready: storage unreachable"},
		{name: "storage slow", ping: context.DeadlineExceeded, wantCode: http.StatusServiceUnavailable, wantErr: "not ready: storage ping timed out"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/readyz", "/-/ready"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				h := newHarness(t, config.Server{APIToken: "s3cret"})
				h.ping = tt.ping
				resp, body := h.do(t, newRequest(http.MethodGet, path, ""))
				require.Equal(t, tt.wantCode, resp.StatusCode)
				if tt.wantBody != "" {
					require.Equal(t, tt.wantBody, body)
				}
				if tt.wantErr != "" {
					require.Equal(t, tt.wantErr, errorOf(t, body), "the ping error is logged, not sent")
					require.Len(t, h.logs.FilterMessage("not ready").All(), 1)
				}
			})
		}
	}
}

func TestReadyzPingHasDeadline(t *testing.T) {
	h := newHarness(t, config.Server{})
	h.srv.pinger = pingerFunc(func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		require.True(t, ok)
		return nil
	})
	resp, _ := h.do(t, newRequest(http.MethodGet, "/readyz", ""))
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestReadyzWithoutPinger(t *testing.T) {
	srv, err := New(config.Server{}, nil, Deps{Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{}, NewDecoder: testDecoder})
	require.NoError(t, err)
	resp, err := srv.App().Test(newRequest(http.MethodGet, "/readyz", ""))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestMetricsEndpoint(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	resp, _ := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody))
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body := h.do(t, newRequest(http.MethodGet, "/metrics", ""))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `alertgate_ingest_requests_total{code="200",source="am"} 1`)
	require.Contains(t, body, `alertgate_alerts_received_total{source="am",status="firing"} 1`)
	require.Contains(t, body, `alertgate_ingest_duration_seconds_count{source="am"} 1`)
}

func TestUnknownRoute(t *testing.T) {
	h := newHarness(t, config.Server{})
	for _, req := range []*http.Request{
		newRequest(http.MethodGet, "/nope", ""),
		newRequest(http.MethodGet, "/api/v1/alerts/am", ""),
		newRequest(http.MethodDelete, "/api/v1/incidents/1", ""),
	} {
		t.Run(req.Method+" "+req.URL.Path, func(t *testing.T) {
			resp, body := h.do(t, req)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			require.Equal(t, "no route for "+req.Method+" "+req.URL.Path, errorOf(t, body))
		})
	}
}

func TestShutdownMakesNotReady(t *testing.T) {
	h := newHarness(t, config.Server{})
	require.NoError(t, h.srv.Shutdown(context.Background()))
	for _, path := range []string{"/readyz", "/-/ready"} {
		resp, body := h.do(t, newRequest(http.MethodGet, path, ""))
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Equal(t, "not ready: shutting down", errorOf(t, body))
	}
}

// TestGracefulShutdown checks that a request in flight when Shutdown is
// called still commits and gets its 200, and Shutdown waits for it.
func TestGracefulShutdown(t *testing.T) {
	h := newHarness(t, config.Server{}, config.Source{Name: "am", Type: "test"})
	entered, release := make(chan struct{}), make(chan struct{})
	h.ing.fn = func(context.Context, []alert.Alert) (store.IngestResult, error) {
		close(entered)
		<-release
		return store.IngestResult{Alerts: 1, Incidents: []string{"INC-9"}}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- h.srv.Serve(ln) }()

	type result struct {
		code int
		body string
		err  error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/api/v1/alerts/am", "application/json", strings.NewReader(alertBody))
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- result{code: resp.StatusCode, body: string(b), err: err}
	}()
	<-entered

	shut := make(chan error, 1)
	go func() { shut <- h.srv.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	default:
	}

	close(release)
	res := <-answered
	require.NoError(t, res.err)
	require.Equal(t, http.StatusOK, res.code)
	require.JSONEq(t, `{"status":"ok","alerts":1,"unchanged":0,"suppressed":0,"incidents":["INC-9"]}`, res.body)
	require.NoError(t, <-shut)
	require.NoError(t, <-served)
}
