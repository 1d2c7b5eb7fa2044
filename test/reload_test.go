package test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/server"
)

const reloadBase = `
server: { listen: "127.0.0.1:0" }
storage: { driver: sqlite, path: DB }
sources:
  - { name: probes, type: healthcheck }
`

// startFromFile runs a gateway from a config file, so it can reload it.
func startFromFile(t *testing.T, path string) string {
	t.Helper()
	return startFromFileWith(t, path, nil)
}

// startFromFileWith is startFromFile with the target types of targets
// (nil: the built-in ones).
func startFromFileWith(t *testing.T, path string, targets *notifier.Registry) string {
	t.Helper()
	checks := []config.Check{notifier.CheckConfig}
	if targets != nil {
		checks = []config.Check{targets.Check}
	}
	cfg, err := config.Load(path, checks...)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g, err := server.NewGateway(context.Background(), cfg, server.GatewayOptions{
		Logger: zaptest.NewLogger(t), Listener: ln, ConfigPath: path, Targets: targets,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

func severityOf(t *testing.T, url, id string) string {
	t.Helper()
	var inc struct {
		Incident struct{ Severity string } `json:"incident"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/v1/incidents/"+id, &inc))
	return inc.Incident.Severity
}

func TestReloadAppliesToNewAlertsAndRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alertgate.yml")
	base := strings.Replace(reloadBase, "DB", filepath.Join(dir, "a.db"), 1)
	require.NoError(t, os.WriteFile(path, []byte(base), 0o600))
	url := startFromFile(t, path)

	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"one","status":"down"}`))
	require.Equal(t, "P1", severityOf(t, url, "INC-1"), "default rules: probe failures are P1")

	// A new rule set: probe failures are P3 now.
	require.NoError(t, os.WriteFile(path, []byte(base+`
rules:
  - { name: probes-low, match: ['source_type="healthcheck"'], severity: P3 }
`), 0o600))
	require.Equal(t, http.StatusOK, post(t, url+"/-/reload", ``))
	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"two","status":"down"}`))
	require.Equal(t, "P3", severityOf(t, url, "INC-2"))
	require.Equal(t, "P1", severityOf(t, url, "INC-1"), "existing incidents keep their severity")

	// An invalid file is rejected with its errors and the running config stays.
	require.NoError(t, os.WriteFile(path, []byte(base+"\nrules: [{ name: bad, match: ['x=~\"(\"'], severity: P9 }]\n"), 0o600))
	resp, err := http.Post(url+"/-/reload", "application/json", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Contains(t, string(body), "P9")
	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"three","status":"down"}`))
	require.Equal(t, "P3", severityOf(t, url, "INC-3"))

	// SIGHUP reloads too.
	require.NoError(t, os.WriteFile(path, []byte(base+`
rules:
  - { name: probes-high, match: ['source_type="healthcheck"'], severity: P0 }
`), 0o600))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		m, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(m), `alertgate_config_reloads_total{result="success"} 2`)
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"four","status":"down"}`))
	require.Equal(t, "P0", severityOf(t, url, "INC-4"))
}

// A reload that fails at its last piece (the targets, built after the
// rules and the sources) changes nothing: the new source is not served and
// the new rules do not apply.
func TestReloadFailingAtTheTargetsKeepsEverything(t *testing.T) {
	// A target type whose settings always check out but whose notifier
	// cannot be made when the flag is up: only building the targets finds
	// it (every problem the built-in types can have is found by the check,
	// which runs before anything is built).
	var broken atomic.Bool
	brittle := notify.Descriptor{
		Type:      "brittle",
		Settings:  func() notify.Settings { return &brittleSettings{} },
		Templates: `{{ define "brittle.default.title" }}{{ template "alertgate.title" . }}{{ end }}{{ define "brittle.default.text" }}{{ template "alertgate.text" . }}{{ end }}`,
		New: func(notify.Settings, notify.Params) (notify.Notifier, error) {
			if broken.Load() {
				return nil, errors.New("the device is gone")
			}
			return notify.NotifierFunc(func(context.Context, *notify.Message) error { return nil }), nil
		},
	}
	targets := notifier.NewRegistry(append(slices.Clone(notifier.Types), brittle)...)

	dir := t.TempDir()
	path := filepath.Join(dir, "alertgate.yml")
	base := strings.Replace(reloadBase, "DB", filepath.Join(dir, "a.db"), 1)
	require.NoError(t, os.WriteFile(path, []byte(base), 0o600))
	url := startFromFileWith(t, path, targets)

	// Valid for config.Load (rules, sources, targets all check out), but
	// the new target cannot be built.
	broken.Store(true)
	require.NoError(t, os.WriteFile(path, []byte(base+`
  - { name: extra, type: healthcheck }
rules:
  - { name: probes-low, match: ['source_type="healthcheck"'], severity: P3 }
targets:
  - { name: chat, type: brittle }
`), 0o600))
	resp, err := http.Post(url+"/-/reload", "application/json", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Contains(t, string(body), `target \"chat\": the device is gone`)

	require.Equal(t, http.StatusNotFound, post(t, url+"/api/v1/alerts/extra", `{"check":"one","status":"down"}`), "the new source is not served")
	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"one","status":"down"}`))
	require.Equal(t, "P1", severityOf(t, url, "INC-1"), "the old rules still apply")
}

// brittleSettings are the (no) own keys of the test's brittle target type.
type brittleSettings struct{}

func (*brittleSettings) Validate() error { return nil }
