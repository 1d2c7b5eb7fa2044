package rules

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// decoder decodes payloads with the adapters of cfg's sources, as the CLI
// does.
func decoder(t *testing.T, cfg *config.Config) func(string, []byte) ([]alert.Alert, error) {
	return func(source string, payload []byte) ([]alert.Alert, error) {
		var src config.Source
		for _, s := range cfg.Sources {
			if s.Name == source {
				src = s
			}
		}
		require.NotEmpty(t, src.Name, "source %q", source)
		dec, err := adapters.New(src)
		if err != nil {
			return nil, err
		}
		b, err := dec.Decode(http.Header{}, payload)
		return b.Alerts, err
	}
}

func TestDefaultRulesTestFile(t *testing.T) {
	cfg := config.Default()
	e, err := New(cfg)
	require.NoError(t, err)
	tf, err := LoadTests("testdata/default_rules_test.yml")
	require.NoError(t, err)
	results := RunTests(e, tf, decoder(t, cfg))
	require.Len(t, results, len(tf.Tests))
	for _, r := range results {
		t.Run(r.Name, func(t *testing.T) {
			require.True(t, r.Pass, r.Diff)
		})
	}
}

func writeTests(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tests.yml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func TestRunTestsReportsDiffs(t *testing.T) {
	e, err := New(config.Default())
	require.NoError(t, err)
	tf, err := LoadTests(writeTests(t, `
at: 2026-11-29T03:00:00Z
tests:
  - name: wrong on purpose
    alert: { labels: { alertname: KubeJobFailed, service: batch } }
    expect: { severity: P0, category: outage, runbook: "", group_key: x, rule: default, suppressed: true, suppressed_by: silence }
  - name: bad payload
    source: alertmanager
    payload: 'not json'
    expect: { severity: P0 }
  - name: passes
    alert: { labels: { alertname: KubeJobFailed } }
    expect: { severity: p2 }
`))
	require.NoError(t, err)
	results := RunTests(e, tf, decoder(t, config.Default()))
	require.Equal(t, []TestResult{
		{Name: "wrong on purpose", Diff: `severity: want P0, got P2 (rule "default")
category: want "outage", got "" (rule "default")
group_key: want "x", got "alertname=\"KubeJobFailed\",service=\"batch\"" (rule "default")
suppressed: want true, got false (not suppressed)
suppressed_by: want "silence", got "" (not suppressed)`},
		{Name: "passes", Pass: true},
	}, []TestResult{results[0], results[2]})
	require.False(t, results[1].Pass)
	require.True(t, strings.HasPrefix(results[1].Diff, "payload: bad payload: "), results[1].Diff)
}

func TestLoadTestsErrors(t *testing.T) {
	cases := []struct {
		name string
		body string
		want string
	}{
		{"unknown key with line", "tests:\n  - name: x\n    alert: { labelz: {} }\n", `tests.yml:3: field labelz not found`},
		{"syntax", "tests: [\n", "tests.yml:"},
		{"no name", "tests:\n  - alert: {}\n", "tests[0]: name is required"},
		{"both forms", "tests:\n  - { name: x, alert: {}, payload: '{}', source: a }\n", "tests[0] (x): give either alert or payload"},
		{"neither form", "tests:\n  - { name: x }\n", "tests[0] (x): give either alert or payload"},
		{"payload without source", "tests:\n  - { name: x, payload: '{}' }\n", "tests[0] (x): payload needs source"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadTests(writeTests(t, tc.body))
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := LoadTests(filepath.Join(t.TempDir(), "missing.yml"))
	require.ErrorContains(t, err, "rule tests: open")
}

func TestRunTestsBadSetup(t *testing.T) {
	e, err := New(config.Default())
	require.NoError(t, err)
	tf, err := LoadTests(writeTests(t, `
open_incidents: [ { key: INC-1, severity: P9, alert: {} } ]
tests: [ { name: x, alert: {} } ]
`))
	require.NoError(t, err)
	res := RunTests(e, tf, nil)
	require.False(t, res[0].Pass)
	require.Contains(t, res[0].Diff, `open_incidents[0]: unknown severity "P9"`)
}
