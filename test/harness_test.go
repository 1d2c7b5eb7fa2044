package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amalert "github.com/prometheus/alertmanager/alert"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notifier/opsgenie"
	"github.com/alertgate/alertgate/router/notifier/pagerduty"
	"github.com/alertgate/alertgate/router/notifier/slack"
	"github.com/alertgate/alertgate/router/notifier/statuspage"
	"github.com/alertgate/alertgate/router/notifier/teams"
	agwebhook "github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/server"
)

// issueConfig is the configuration the core issue says must work as
// written, config/testdata/issue.yml (listen address and paths are
// replaced per test).
var issueConfig = func() string {
	b, err := os.ReadFile("../config/testdata/issue.yml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// sqliteStorage is issueConfig's storage line, which onPostgres replaces.
const sqliteStorage = `storage: { driver: sqlite, path: ./data/alertgate.db }`

// onPostgres is cfg with its SQLite storage line replaced by PostgreSQL
// at dsn, and extra storage keys ("connect_timeout: 2s") when given. The
// test fails when cfg has no such line: a PostgreSQL test must not run on
// SQLite without saying so.
func onPostgres(t testing.TB, cfg, dsn string, extra ...string) string {
	t.Helper()
	if !strings.Contains(cfg, sqliteStorage) {
		t.Fatalf("onPostgres: the config has no %s", sqliteStorage)
	}
	keys := append([]string{fmt.Sprintf("driver: postgres, dsn: %q", dsn)}, extra...)
	return strings.Replace(cfg, sqliteStorage, "storage: { "+strings.Join(keys, ", ")+" }", 1)
}

// hook is one request a recording sink received.
type hook struct {
	Kind           string `json:"kind"`
	Role           string `json:"role"`
	Step           string `json:"step"`
	IdempotencyKey string `json:"idempotency_key"`
	AckURL         string `json:"ack_url"`
	Channel        string `json:"channel"`
	Summary        string `json:"summary"`
	Flap           int    `json:"flap"`
	Flapping       bool   `json:"flapping"`
	Incident       struct {
		ID       string    `json:"id"`
		Severity string    `json:"severity"`
		Status   string    `json:"status"`
		OpenedAt time.Time `json:"opened_at"`
	} `json:"incident"`
}

// sink records webhook deliveries.
type sink struct {
	mu   sync.Mutex
	got  []hook
	srv  *httptest.Server
	hits chan struct{}
}

func newSink(t *testing.T) *sink {
	s := &sink{hits: make(chan struct{}, 1000)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h hook
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &h); err != nil {
			t.Errorf("sink: undecodable body %q", b)
		}
		s.mu.Lock()
		s.got = append(s.got, h)
		s.mu.Unlock()
		s.hits <- struct{}{}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) all() []hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hook(nil), s.got...)
}

// pages returns the steps of the pages received so far.
func (s *sink) pages() []string {
	var out []string
	for _, h := range s.all() {
		if h.Kind == "page" {
			out = append(out, h.Step)
		}
	}
	return out
}

type gateway struct {
	*server.Gateway
	url string
	clk *clocktest.Clock // shared by the whole gateway
}

// newRecordingServer is a webhook sink that hands every hook to fn.
func newRecordingServer(fn func(hook)) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h hook
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &h) == nil {
			fn(h)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// startRealGateway runs a gateway in-process on the real clock and
// returns its base URL.
func startRealGateway(tb testing.TB, cfgYAML string, sk *sink) string {
	tb.Helper()
	g := startGatewayClock(tb, cfgYAML, sk, time.Now)
	return g.url
}

// startGateway runs a gateway in-process on a random port with cfgYAML,
// the sink as every target, and a fake clock.
func startGateway(t *testing.T, cfgYAML string, sk *sink) *gateway {
	t.Helper()
	clk := clocktest.New(time.Now().UTC().Truncate(time.Second))
	g := startGatewayClock(t, cfgYAML, sk, clk.Now)
	g.clk = clk
	return g
}

func startGatewayClock(t testing.TB, cfgYAML string, sk *sink, now func() time.Time) *gateway {
	t.Helper()
	cfg, err := config.LoadBytes("test.yml", []byte(cfgYAML), notifier.CheckConfig)
	require.NoError(t, err)
	cfg.Storage.Path = filepath.Join(t.TempDir(), "alertgate.db")
	for i := range cfg.Targets {
		pointAt(cfg.Targets[i].Settings, config.Secret(sk.srv.URL+"/hook"))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.Server.ExternalURL = "http://" + ln.Addr().String()
	log := zap.NewNop()
	if tt, ok := t.(*testing.T); ok {
		log = zaptest.NewLogger(tt)
	}
	g, err := server.NewGateway(context.Background(), cfg, server.GatewayOptions{
		Logger: log, Now: now, Listener: ln, Version: "test",
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return &gateway{Gateway: g, url: "http://" + ln.Addr().String()}
}

// pointAt sends a target of any HTTP type to url.
func pointAt(settings any, url config.Secret) {
	switch s := settings.(type) {
	case *agwebhook.Settings:
		s.URL = url
	case *slack.Settings:
		s.URL = url
	case *teams.Settings:
		s.URL = url
	case *pagerduty.Settings:
		s.URL = url
	case *opsgenie.Settings:
		s.URL = url
	case *statuspage.Settings:
		s.URL = url
	}
}

// advance moves the gateway's clock and runs whatever fell due.
func (g *gateway) advance(t *testing.T, d time.Duration) {
	t.Helper()
	g.clk.Advance(d)
	require.NoError(t, g.Engine().RunDue(context.Background()))
}

// amNotifier is Alertmanager's own webhook notifier pointed at a source.
type amNotifier struct {
	n *webhook.Notifier
}

func newAMNotifier(t *testing.T, endpoint, token string) *amNotifier {
	t.Helper()
	u, err := url.Parse(endpoint)
	require.NoError(t, err)
	httpCfg := commoncfg.DefaultHTTPClientConfig
	if token != "" {
		httpCfg.Authorization = &commoncfg.Authorization{Type: "Bearer", Credentials: commoncfg.Secret(token)}
	}
	conf := &webhook.WebhookConfig{
		NotifierConfig: amcommoncfg.NotifierConfig{VSendResolved: true},
		HTTPConfig:     &httpCfg,
		URL:            amcommoncfg.SecretTemplateURL(u.String()),
	}
	tmpl, err := template.FromGlobs(nil)
	require.NoError(t, err)
	tmpl.ExternalURL, _ = url.Parse("http://alertmanager:9093")
	n, err := webhook.New(conf, tmpl, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return &amNotifier{n: n}
}

// send delivers alerts as one Alertmanager notification of group key gk.
func (a *amNotifier) send(t *testing.T, alerts ...*amalert.Alert) error {
	t.Helper()
	ctx := notify.WithGroupKey(context.Background(), "{}:{alertname=\"test\"}")
	ctx = notify.WithReceiverName(ctx, "gw")
	ctx = notify.WithGroupLabels(ctx, model.LabelSet{"alertname": "test"})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return a.n.Notify(ctx, alerts...).Err()
}

func amFiring(name, svc, severity string, startsAt time.Time) *amalert.Alert {
	return amalert.New(model.Alert{
		Labels:      model.LabelSet{"alertname": model.LabelValue(name), "service": model.LabelValue(svc), "severity": model.LabelValue(severity)},
		Annotations: model.LabelSet{"summary": model.LabelValue(name + " on " + svc)},
		StartsAt:    startsAt,
	}, startsAt, false)
}

func amResolved(a *amalert.Alert, endsAt time.Time) *amalert.Alert {
	m := a.Alert
	m.EndsAt = endsAt
	return amalert.New(m, endsAt, false)
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
