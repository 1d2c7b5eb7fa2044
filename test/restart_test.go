package test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/server"
)

// childEnv makes the test binary run a gateway instead of the tests, so
// the restart tests can SIGKILL a real process.
const childEnv = "ALERTGATE_TEST_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

// childAddrEnv names the file a child writes the address it listens on
// to: configs listen on 127.0.0.1:0, so no port is picked in advance (and
// perhaps taken by another test meanwhile).
const childAddrEnv = "ALERTGATE_TEST_CHILD_ADDR"

func runChild(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	log, _ := zap.NewDevelopment()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	g, err := server.NewGateway(ctx, cfg, server.GatewayOptions{Logger: log, Version: "test-child", EnginePoll: 100 * time.Millisecond, Listener: ln})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if f := os.Getenv(childAddrEnv); f != "" {
		// Written whole, then renamed: the test never reads half of it.
		err := os.WriteFile(f+".tmp", []byte(ln.Addr().String()), 0o600)
		if err == nil {
			err = os.Rename(f+".tmp", f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := g.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd      *exec.Cmd
	url      string
	logPath  string
	addrFile string
}

// spawnChild starts the gateway as a separate process with the config at
// cfgPath, logging to logPath; waitReady waits until it serves. On
// failure the test shows the interesting part of its log.
func spawnChild(t *testing.T, cfgPath, logPath string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), logPath: logPath, addrFile: logPath + ".addr"}
	c.cmd.Env = append(os.Environ(), childEnv+"="+cfgPath, childAddrEnv+"="+c.addrFile)
	logf, err := os.Create(logPath)
	require.NoError(t, err)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	require.NoError(t, c.cmd.Start())
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		logf.Close()
		if t.Failed() {
			t.Logf("%s (excerpt):\n%s", filepath.Base(logPath), logExcerpt(logPath))
		}
	})
	return c
}

// waitReady waits until the child wrote its address and answers /healthz.
func (c *child) waitReady(t *testing.T) {
	t.Helper()
	ready := func() bool {
		if c.url == "" {
			b, err := os.ReadFile(c.addrFile)
			if err != nil {
				return false
			}
			c.url = "http://" + string(b)
		}
		resp, err := http.Get(c.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for deadline := time.Now().Add(30 * time.Second); !ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gateway %s did not start:\n%s", filepath.Base(c.logPath), logExcerpt(c.logPath))
		}
	}
}

// startChild runs the gateway as a separate process and waits until it
// serves.
func startChild(t *testing.T, cfgPath string) *child {
	t.Helper()
	c := spawnChild(t, cfgPath, filepath.Join(filepath.Dir(cfgPath), fmt.Sprintf("child-%d.log", time.Now().UnixNano())))
	c.waitReady(t)
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	err := c.cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "killed: %v", err)
}

func (c *child) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, c.cmd.Wait())
}

func writeConfig(t *testing.T, dir, sinkURL, extra string) string {
	t.Helper()
	cfg := strings.Replace(issueConfig, `listen: "127.0.0.1:8080"`, `listen: "127.0.0.1:0"`, 1)
	cfg = strings.Replace(cfg, "./data/alertgate.db", filepath.Join(dir, "alertgate.db"), 1)
	cfg = strings.Replace(cfg, "http://127.0.0.1:9999/hook", sinkURL, 1)
	path := filepath.Join(dir, "alertgate.yml")
	require.NoError(t, os.WriteFile(path, []byte(cfg+extra), 0o600))
	return path
}

// A timed step that falls due while the process is dead is sent once
// after the restart.
func TestKilledGatewayStillPagesDueStepOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	sk := newSink(t)
	dir := t.TempDir()
	// On-Call is paged 2s after open, so the kill comes before it is due.
	matrix := `
escalation:
  matrix:
    - { role: oncall, stop_on: acknowledged, P0: 2s, P1: 2s, P2: 2h, P3: 24h }
    - { role: team-lead, stop_on: acknowledged, P0: 15m, P1: 30m, P2: 4h, P3: next-day }
`
	cfgPath := writeConfig(t, dir, sk.srv.URL+"/hook", matrix)
	c := startChild(t, cfgPath)

	body, err := os.ReadFile("../adapters/testdata/alertmanager-firing.json")
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, c.url+"/api/v1/alerts/alertmanager", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	c.kill(t)
	require.Empty(t, sk.pages(), "nothing was due before the kill")

	c = startChild(t, cfgPath)
	require.Equal(t, []string{"oncall#0"}, waitPages(t, sk, 1))
	// Wait until the delivery is recorded, then make sure it stays single.
	require.Eventually(t, func() bool {
		var inc incidentView
		getJSON(t, c.url+"/api/v1/incidents/INC-1", &inc)
		for _, e := range inc.Timeline {
			if e.Kind == "notified" && strings.Contains(e.Detail, "sink: page oncall#0 delivered") {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond)
	c.stop(t)
	require.Equal(t, []string{"oncall#0"}, sk.pages())
}

// Every alert that got a 2xx before a SIGKILL is in the database after it.
func TestKilledGatewayLosesNoAcknowledgedAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	sk := newSink(t)
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, sk.srv.URL+"/hook", "")
	c := startChild(t, cfgPath)

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	killAt := make(chan struct{})
	var once sync.Once
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				name := fmt.Sprintf("Alert_%d_%d", w, i)
				body := fmt.Sprintf(`{"version":"4","status":"firing","receiver":"gw","alerts":[{"status":"firing","labels":{"alertname":%q,"severity":"warning"},"annotations":{},"startsAt":"2026-11-27T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":%q}]}`, name, fmt.Sprintf("%016x", w*1000+i))
				req, _ := http.NewRequest(http.MethodPost, c.url+"/api/v1/alerts/alertmanager", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer s3cret")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the process is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, name)
					if len(acked) == 300 {
						once.Do(func() { close(killAt) })
					}
					mu.Unlock()
				}
			}
		}()
	}
	<-killAt
	c.kill(t)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(acked), 300)

	c = startChild(t, cfgPath)
	var list struct {
		Incidents []struct{ Title string } `json:"incidents"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, c.url+"/api/v1/incidents?limit=1000", &list))
	stored := map[string]bool{}
	for _, inc := range list.Incidents {
		stored[inc.Title] = true
	}
	for _, name := range acked {
		require.True(t, stored[name], "alert %s got 200 before the kill but is not stored", name)
	}
	t.Logf("%d alerts acknowledged before SIGKILL, all stored (%d incidents after restart)", len(acked), len(list.Incidents))
}
