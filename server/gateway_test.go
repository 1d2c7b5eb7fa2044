package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
)

// A reload switches the store's rules, the router's targets and the
// server's sources in one step: every component reads its piece through
// the gateway's one generation, and a reader that takes a generation,
// during any number of reloads, finds the sources, the targets and the
// rules of one file together.
func TestReloadSwitchesOneGeneration(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alertgate.yml")
	severities := []string{"P3", "P0", "P2", "P1"}
	// File n has source probes-n, target chat-n, and rates probe failures
	// severities[n%4].
	write := func(n int) {
		require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, `
server: { listen: "127.0.0.1:0" }
storage: { driver: sqlite, path: %q }
sources:
  - { name: probes-%d, type: healthcheck }
targets:
  - { name: chat-%d, type: log }
rules:
  - { name: probes, match: ['source_type="healthcheck"'], severity: %s }
`, filepath.Join(dir, "a.db"), n, n, severities[n%4]), 0o600))
	}
	write(0)
	cfg, err := config.Load(path, notifier.CheckConfig)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g, err := NewGateway(context.Background(), cfg, GatewayOptions{Logger: zaptest.NewLogger(t), Listener: ln, ConfigPath: path})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close(); g.Close() })

	// fileOf says which file gen was made from, and fails unless its
	// sources, targets and rules are all that file's.
	fileOf := func(gen *generation) (int, error) {
		var n int
		if len(gen.cfg.Sources) != 1 {
			return 0, fmt.Errorf("config sources %v", gen.cfg.Sources)
		}
		if _, err := fmt.Sscanf(gen.cfg.Sources[0].Name, "probes-%d", &n); err != nil {
			return 0, err
		}
		if len(gen.sources.t.byName) != 1 || gen.sources.t.lookup(fmt.Sprintf("probes-%d", n)) == nil {
			return n, fmt.Errorf("file %d: served sources %v", n, gen.sources.t.byName)
		}
		if rc := gen.routing.Config(); rc != gen.cfg || rc.Target(fmt.Sprintf("chat-%d", n)) == nil {
			return n, fmt.Errorf("file %d: routing of another config (targets %v)", n, rc.Targets)
		}
		d := gen.policy.Classifier().Evaluate(&alert.Alert{Source: fmt.Sprintf("probes-%d", n), SourceType: "healthcheck", Title: "check"})
		if d.Severity.String() != severities[n%4] {
			return n, fmt.Errorf("file %d: the store's rules rate a probe failure %s, the file %s", n, d.Severity, severities[n%4])
		}
		return n, nil
	}
	// reads requires every component to read the running generation's
	// piece, and returns its file.
	reads := func() int {
		t.Helper()
		gen := g.gen.Load()
		require.Same(t, gen.routing, g.engine.Routing(), "the router reads the generation's routing")
		require.Same(t, gen.sources, g.srv.Sources(), "the server reads the generation's sources")
		require.Same(t, gen.policy, g.store.Policy(), "the store reads the generation's policy")
		require.Same(t, gen.cfg, g.config())
		n, err := fileOf(gen)
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 0, reads())

	const reloads = 20
	stop := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				n, err := fileOf(g.gen.Load())
				if err == nil && n < last {
					err = fmt.Errorf("file %d after file %d", n, last)
				}
				if err != nil {
					errs <- err
					return
				}
				last = n
			}
		}()
	}
	for n := 1; n <= reloads; n++ {
		write(n)
		require.NoError(t, g.Reload(context.Background()))
		require.Equal(t, n, reads())
	}
	close(stop)
	wg.Wait()
	for range 4 {
		require.NoError(t, <-errs)
	}

	// A file that fails to build changes nothing: the same generation
	// stays, whole.
	before := g.gen.Load()
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(mustRead(t, path)), "type: healthcheck", "type: nosuchtype", 1)), 0o600))
	require.Error(t, g.Reload(context.Background()))
	require.Same(t, before, g.gen.Load())
	require.Equal(t, reloads, reads())
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
