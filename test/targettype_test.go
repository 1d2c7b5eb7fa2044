package test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/server"
)

// pigeonSettings are the own keys of a target type that exists only in
// this test.
type pigeonSettings struct {
	Loft     string        `yaml:"loft"`
	Ring     config.Secret `yaml:"ring,omitempty"`
	RingFile string        `yaml:"ring_file,omitempty"`
}

func (s *pigeonSettings) Validate() error {
	if s.Loft == "" {
		return notify.Errorf("loft", "loft is required")
	}
	return nil
}

// A new target type is one descriptor and one registration: config
// loading, check-config and the engine take it as they take the built-in
// types, and deliver through it.
func TestNewTargetTypeIsOneDescriptorAndOneRegistration(t *testing.T) {
	var (
		mu   sync.Mutex
		sent []string
	)
	pigeon := notify.Descriptor{
		Type:     "pigeon",
		Settings: func() notify.Settings { return &pigeonSettings{} },
		Templates: `{{ define "pigeon.default.title" }}{{ template "alertgate.title" . }}{{ end }}
{{ define "pigeon.default.text" }}{{ template "alertgate.text" . }}{{ end }}`,
		New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
			ps := s.(*pigeonSettings)
			return notify.NotifierFunc(func(_ context.Context, m *notify.Message) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, string(m.Kind)+" "+m.Incident.Key+" from "+ps.Loft+" ring "+ps.Ring.Value())
				return nil
			}), nil
		},
	}
	targets := notifier.NewRegistry(append(slices.Clone(notifier.Types), pigeon)...) // the registration

	t.Setenv("AG_TEST_RING", "r-42")
	dir := t.TempDir()
	file := `server: { listen: "127.0.0.1:0" }
storage: { driver: sqlite, path: ` + filepath.Join(dir, "a.db") + ` }
sources:
  - { name: probes, type: healthcheck }
targets:
  - { name: coop, type: pigeon, loft: north, ring: "${AG_TEST_RING}" }
roles:
  oncall: { targets: [coop] }
  team-lead: { targets: [coop] }
  eng-manager: { targets: [coop] }
  cto: { targets: [coop] }
`
	name := filepath.Join(dir, "alertgate.yml")

	// Config loading: strict on the type's keys, its secrets resolved.
	_, err := config.LoadBytes(name, []byte(file), notifier.CheckConfig)
	require.ErrorContains(t, err, `targets[0] (coop): type "pigeon" is not one of`, "unregistered, the type is unknown")
	_, err = config.LoadBytes(name, []byte(strings.Replace(file, "loft: north", "loft: north, wings: 2", 1)), targets.Check)
	require.ErrorContains(t, err, `alertgate.yml:6: unknown key "wings" in targets[0]`)
	_, err = config.LoadBytes(name, []byte(strings.Replace(file, "loft: north", "loft: ''", 1)), targets.Check)
	require.ErrorContains(t, err, `alertgate.yml:6: targets[0] (coop): loft is required`)
	cfg, err := config.LoadBytes(name, []byte(file), targets.Check)
	require.NoError(t, err)
	require.Equal(t, &pigeonSettings{Loft: "north", Ring: "r-42"}, cfg.Target("coop").Settings)

	// check-config.
	require.NoError(t, server.CheckWith(cfg, targets))

	// The engine delivers through it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g, err := server.NewGateway(context.Background(), cfg, server.GatewayOptions{Logger: zaptest.NewLogger(t), Listener: ln, Targets: targets})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	require.Equal(t, http.StatusOK, post(t, "http://"+ln.Addr().String()+"/api/v1/alerts/probes", `{"check":"db","status":"down"}`))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(sent, "page INC-1 from north ring r-42")
	}, 10*time.Second, 10*time.Millisecond)
}
