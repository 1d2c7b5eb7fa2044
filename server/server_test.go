package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// testNow is the fixed clock of every test.
var testNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// fakeIngester records batches and answers with fn (default: success).
type fakeIngester struct {
	mu    sync.Mutex
	calls [][]alert.Alert
	fn    func(ctx context.Context, alerts []alert.Alert) (store.IngestResult, error)
}

func (f *fakeIngester) Ingest(ctx context.Context, alerts []alert.Alert) (store.IngestResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, alerts)
	fn := f.fn
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, alerts)
	}
	return store.IngestResult{Alerts: len(alerts), Incidents: []string{"INC-1"}}, nil
}

func (f *fakeIngester) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// fakeIncidents serves a fixed list and detail.
type fakeIncidents struct {
	list       []alert.Incident
	detail     *store.IncidentDetail
	err        error
	lastFilter store.IncidentFilter
	lastID     int64
}

func (f *fakeIncidents) ListIncidents(_ context.Context, flt store.IncidentFilter) ([]alert.Incident, error) {
	f.lastFilter = flt
	return f.list, f.err
}

func (f *fakeIncidents) GetIncident(_ context.Context, id int64) (*store.IncidentDetail, error) {
	f.lastID = id
	if f.err != nil {
		return nil, f.err
	}
	return f.detail, nil
}

// actionCall is one recorded Acknowledge or Resolve.
type actionCall struct {
	verb  string
	id    int64
	actor string
	note  string
}

// fakeActions records calls and returns err, or the incident in the new state.
type fakeActions struct {
	calls []actionCall
	err   error
}

func (f *fakeActions) do(verb string, status alert.IncidentStatus, id int64, actor, note string) (*alert.Incident, error) {
	f.calls = append(f.calls, actionCall{verb: verb, id: id, actor: actor, note: note})
	if f.err != nil {
		return nil, f.err
	}
	return &alert.Incident{ID: id, Key: alert.IncidentKey(id), Status: status, Severity: alert.P1}, nil
}

func (f *fakeActions) Acknowledge(_ context.Context, id int64, actor, note string) (*alert.Incident, error) {
	return f.do("ack", alert.IncidentAcknowledged, id, actor, note)
}

func (f *fakeActions) Resolve(_ context.Context, id int64, actor, note string) (*alert.Incident, error) {
	return f.do("resolve", alert.IncidentResolved, id, actor, note)
}

// pingerFunc adapts a function to Pinger.
type pingerFunc func(ctx context.Context) error

func (f pingerFunc) Ping(ctx context.Context) error { return f(ctx) }

// decoderFunc adapts a function to Decoder.
type decoderFunc func(h adapters.Header, body []byte) (adapters.Batch, error)

func (f decoderFunc) Decode(h adapters.Header, body []byte) (adapters.Batch, error) {
	return f(h, body)
}

// testBody is the wire format of the fake decoder.
type testBody struct {
	Alerts []struct {
		Status string `json:"status"`
		Name   string `json:"name"`
	} `json:"alerts"`
	Truncated int `json:"truncated"`
}

// testDecoder decodes testBody, like a real adapter would: copies, and
// ErrBadPayload with a field path on bad input.
func testDecoder(src config.Source) (Decoder, error) {
	if src.Type == "broken" {
		return nil, fmt.Errorf("unknown type %q", src.Type)
	}
	return decoderFunc(func(_ adapters.Header, body []byte) (adapters.Batch, error) {
		var tb testBody
		if err := json.Unmarshal(body, &tb); err != nil {
			return adapters.Batch{}, fmt.Errorf("%w: %v", adapters.ErrBadPayload, err)
		}
		b := adapters.Batch{Truncated: tb.Truncated, Receiver: "team", GroupKey: "{}:{}"}
		for i, a := range tb.Alerts {
			if a.Status == "" {
				return adapters.Batch{}, fmt.Errorf("%w: alerts[%d].status: missing", adapters.ErrBadPayload, i)
			}
			b.Alerts = append(b.Alerts, alert.Alert{
				Source: src.Name, SourceType: src.Type, Status: alert.Status(a.Status),
				Fingerprint: a.Name, Title: a.Name,
			})
		}
		return b, nil
	}), nil
}

// harness is a Server on fakes with observed logs and its own registry.
type harness struct {
	srv  *Server
	logs *observer.ObservedLogs
	reg  *prometheus.Registry
	ing  *fakeIngester
	inc  *fakeIncidents
	act  *fakeActions
	ping error
}

func newHarness(t *testing.T, cfg config.Server, sources ...config.Source) *harness {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	h := &harness{
		logs: logs,
		reg:  prometheus.NewRegistry(),
		ing:  &fakeIngester{},
		inc:  &fakeIncidents{},
		act:  &fakeActions{},
	}
	srv, err := New(cfg, sources, Deps{
		Ingester:   h.ing,
		Incidents:  h.inc,
		Actions:    h.act,
		Pinger:     pingerFunc(func(context.Context) error { return h.ping }),
		NewDecoder: testDecoder,
		Logger:     zap.New(core),
		Registry:   h.reg,
		Now:        func() time.Time { return testNow },
	})
	require.NoError(t, err)
	h.srv = srv
	return h
}

// do sends req through fiber's in-memory test transport.
func (h *harness) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := h.srv.App().Test(req, -1)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// newRequest builds a request; headers come as name, value pairs.
func newRequest(method, target, body string, headers ...string) *http.Request {
	var r io.Reader = http.NoBody
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// errorOf decodes an error body.
func errorOf(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e.Error
}

// metricValue returns a counter's value, or a histogram's sample count,
// for the series with exactly labels; 0 when absent.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !labelsEqual(m.GetLabel(), labels) {
				continue
			}
			if m.GetHistogram() != nil {
				return float64(m.GetHistogram().GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func labelsEqual(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

// allLogText renders every observed entry, fields included.
func allLogText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "%s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	return b.String()
}

func TestNew(t *testing.T) {
	ok := Deps{Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{}, NewDecoder: testDecoder}
	tests := []struct {
		name    string
		cfg     config.Server
		sources []config.Source
		deps    Deps
		wantErr string
	}{
		{name: "minimal deps", deps: ok},
		{name: "missing dependencies", deps: Deps{NewDecoder: testDecoder}, wantErr: "missing dependencies: Ingester, Incidents, Actions"},
		{name: "api token file not loaded", cfg: config.Server{APITokenFile: "/run/secrets/token"}, deps: ok, wantErr: "api_token_file not loaded"},
		{name: "source without a name", sources: []config.Source{{Type: "t"}}, deps: ok, wantErr: "source without a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, tt.sources, tt.deps)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestNewReportsEverySourceProblem(t *testing.T) {
	deps := Deps{Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{}, NewDecoder: testDecoder}
	_, err := New(config.Server{}, []config.Source{
		{Name: "a", Type: "broken"},
		{Name: "b", Auth: config.Auth{BearerTokenFile: "/x"}},
		{Name: "c"}, {Name: "c"},
		{Name: "d", Auth: config.Auth{HMAC: &config.HMACAuth{SecretFile: "/y"}}},
		{Name: "e", Auth: config.Auth{Basic: &config.BasicAuth{Username: "u", PasswordFile: "/z"}}},
	}, deps)
	require.Error(t, err)
	for _, want := range []string{
		`source "a": decoder`,
		`source "b": auth: bearer_token_file not loaded`,
		`source "c": duplicate name`,
		`source "d": auth: hmac secret is empty`,
		`source "e": auth: basic password_file not loaded`,
	} {
		require.ErrorContains(t, err, want)
	}
}

func TestSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	deps := Deps{Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{}, NewDecoder: testDecoder, Registry: reg}
	_, err := New(config.Server{}, nil, deps)
	require.NoError(t, err)
	_, err = New(config.Server{}, nil, deps)
	require.NoError(t, err, "a second server reuses the registered collectors")
}
