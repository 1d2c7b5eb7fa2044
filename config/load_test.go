package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// issueConfig is the config the core issue says must work as written
// (testdata/issue.yml; the end-to-end tests run it too).
var issueConfig = func() string {
	b, err := os.ReadFile("testdata/issue.yml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func TestLoadIssueConfig(t *testing.T) {
	c, err := LoadBytes("alertgate.yml", []byte(issueConfig))
	require.NoError(t, err)
	def := Default()

	// Given sections: struct sections merge, lists and maps replace.
	require.Equal(t, "127.0.0.1:8080", c.Server.Listen)
	require.Equal(t, def.Server.MaxBodyBytes, c.Server.MaxBodyBytes, "server keys not given keep defaults")
	require.Equal(t, def.Server.ReadTimeout, c.Server.ReadTimeout)
	require.Len(t, c.Sources, 2)
	require.Equal(t, "s3cret", c.Sources[0].Auth.BearerToken.Value())
	require.Equal(t, map[string]Role{
		"oncall": {Targets: []string{"sink"}}, "team-lead": {Targets: []string{"sink"}},
		"eng-manager": {Targets: []string{"sink"}}, "cto": {Targets: []string{"sink"}},
	}, c.Roles)

	// Targets: the sink with per-target defaults, plus the built-in log.
	require.Len(t, c.Targets, 2)
	sink := c.Target("sink")
	require.NotNil(t, sink)
	var own struct {
		URL Secret `yaml:"url"`
	}
	require.NoError(t, sink.DecodeSettings("targets[0]", &own), "its type's own keys are kept for its package")
	require.Equal(t, "http://127.0.0.1:9999/hook", own.URL.Value())
	require.Equal(t, 10*time.Second, sink.Timeout.D())
	require.Equal(t, Retry{MaxAttempts: 8, Backoff: Duration(2 * time.Second), MaxBackoff: Duration(5 * time.Minute), MaxAge: Duration(time.Hour)}, sink.Retry)
	require.Equal(t, 32, sink.Concurrency)
	require.Equal(t, Breaker{Failures: 5, OpenFor: Duration(30 * time.Second)}, sink.Breaker)
	require.NotNil(t, c.Target(LogTarget), "log is built in")
	require.Equal(t, "log", c.Target(LogTarget).Type)

	// Sections not given keep their defaults.
	require.Equal(t, def.Communication, c.Communication)
	require.Equal(t, def.Escalation, c.Escalation)
	require.Equal(t, def.Severities, c.Severities)
	require.Equal(t, def.Rules, c.Rules)
	require.Equal(t, def.Runbooks, c.Runbooks)
}

func TestLoadExampleFile(t *testing.T) {
	for _, v := range []string{"ALERTGATE_API_TOKEN", "ALERTMANAGER_TOKEN", "GRAFANA_WEBHOOK_SECRET", "PROBES_PASSWORD",
		"PAGERDUTY_ROUTING_KEY", "MAIL_RELAY_SIGNING_SECRET", "CI_TOKEN"} {
		t.Setenv(v, "value-of-"+v)
	}
	t.Setenv("SLACK_LEADS_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x")
	c, err := Load("example.yml")
	require.NoError(t, err)
	require.Len(t, c.Sources, 4)
	require.Equal(t, "value-of-GRAFANA_WEBHOOK_SECRET", c.Sources[1].Auth.HMAC.Secret.Value())
	require.Equal(t, "X-Grafana-Alerting-Signature", c.Sources[1].Auth.HMAC.Header)
	var pd struct {
		RoutingKey Secret `yaml:"routing_key"`
	}
	require.NoError(t, c.Target("pagerduty-main").DecodeSettings("targets[0]", &pd))
	require.Equal(t, "value-of-PAGERDUTY_ROUTING_KEY", pd.RoutingKey.Value(), "own secrets resolve from the environment")
	require.Equal(t, 5*time.Second, c.Target("slack-leads").Timeout.D())
	require.Equal(t, "Europe/Berlin", c.Escalation.Digests.TimeZone)
	require.Len(t, c.Targets, 4, "three targets plus the built-in log")
	require.Len(t, c.Rules, 3+len(Default().Rules), "the example's rules, then the default rules")
	require.Equal(t, "payments-team", c.Rules[0].Name)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadSectionSemantics(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{"empty file is the defaults", "", func(t *testing.T, c *Config) {
			require.Equal(t, Default(), c)
		}},
		{"comment only file is the defaults", "# nothing\n", func(t *testing.T, c *Config) {
			require.Equal(t, Default(), c)
		}},
		{"document marker only is the defaults", "---\n", func(t *testing.T, c *Config) {
			require.Equal(t, Default(), c)
		}},
		{"nested struct key keeps its siblings", "severities:\n  P0:\n    response: 10m\n", func(t *testing.T, c *Config) {
			require.Equal(t, 10*time.Minute, c.Severities.P0.Response.D())
			require.Equal(t, time.Hour, c.Severities.P0.Resolution.D())
			require.Equal(t, "Critical", c.Severities.P0.Name)
			require.Equal(t, Default().Severities.P1, c.Severities.P1)
		}},
		{"a role given replaces that role, the others stay", "roles:\n  oncall: { targets: [log], rotation: { start: 2026-11-30, shift: 1w, members: [{name: a, targets: [log]}] } }\n",
			func(t *testing.T, c *Config) {
				def := Default().Roles
				require.Len(t, c.Roles, 4)
				require.NotNil(t, c.Roles["oncall"].Rotation)
				require.Equal(t, def["team-lead"], c.Roles["team-lead"])
				require.Equal(t, def["cto"], c.Roles["cto"])
			}},
		{"list inside struct section replaces", "roles:\n  oncall: { targets: [log] }\nescalation:\n  matrix:\n    - { role: oncall, stop_on: acknowledged, P0: now, P1: now, P2: 1h, P3: never }\n",
			func(t *testing.T, c *Config) {
				require.Len(t, c.Escalation.Matrix, 1)
				require.True(t, c.Escalation.Matrix[0].P3.Never)
				require.Equal(t, Default().Escalation.Digests, c.Escalation.Digests, "digests not given keep defaults")
			}},
		{"list inside struct section replaces", "communication:\n  channels:\n    - { name: '#ops', severities: [P0], targets: [log] }\n",
			func(t *testing.T, c *Config) {
				require.Len(t, c.Communication.Channels, 1)
				require.Equal(t, Default().Communication.StatusPage, c.Communication.StatusPage)
			}},
		{"rules: [] keeps the default rules", "rules: []\n", func(t *testing.T, c *Config) {
			require.Equal(t, Default().Rules, c.Rules)
		}},
		{"default_rules: false without rules leaves no rules", "default_rules: false\n", func(t *testing.T, c *Config) {
			require.Empty(t, c.Rules)
		}},
		{"a file rule is tried before the default rules", "rules:\n  - { name: search-p3, match: ['service=\"search\"'], severity: P3 }\n", func(t *testing.T, c *Config) {
			def := Default().Rules
			require.Len(t, c.Rules, len(def)+1)
			require.Equal(t, "search-p3", c.Rules[0].Name)
			require.Equal(t, def, c.Rules[1:])
			require.Equal(t, len(def), c.DefaultRuleCount())
		}},
		{"default_rules: false keeps only the file's rules", "default_rules: false\nrules:\n  - { name: all-p2, severity: P2 }\n", func(t *testing.T, c *Config) {
			require.Equal(t, []Rule{{Name: "all-p2", Severity: "P2"}}, c.Rules)
			require.Zero(t, c.DefaultRuleCount())
		}},
		{"a file rule with a default rule's name replaces it", "rules:\n  - { name: default, severity: P3 }\n", func(t *testing.T, c *Config) {
			def := Default().Rules
			require.Len(t, c.Rules, len(def))
			require.Equal(t, Rule{Name: "default", Severity: "P3"}, c.Rules[0])
			require.Equal(t, def[:len(def)-1], c.Rules[1:])
			require.Equal(t, len(def)-1, c.DefaultRuleCount())
		}},
		{"a target given keeps the built-in log", "targets:\n  - { name: pd, type: pagerduty, routing_key: k }\n", func(t *testing.T, c *Config) {
			require.Equal(t, []string{"pd", "log"}, []string{c.Targets[0].Name, c.Targets[1].Name})
		}},
		{"a runbook given replaces that runbook, the others stay", "runbooks:\n  - { name: database, title: DB, url: 'https://wiki.example.com/db' }\n  - { name: checkout, title: Checkout }\n",
			func(t *testing.T, c *Config) {
				var names []string
				for _, r := range c.Runbooks {
					names = append(names, r.Name)
				}
				require.Equal(t, []string{"database", "checkout", "service-outage", "performance"}, names)
				require.Equal(t, "https://wiki.example.com/db", c.Runbooks[0].URL)
			}},
		{"sources are exactly the file's", "sources:\n  - { name: alertmanager, type: alertmanager, auth: { bearer_token: s3cret } }\n", func(t *testing.T, c *Config) {
			require.Len(t, c.Sources, 1)
		}},
		{"null struct section keeps defaults", "server:\n", func(t *testing.T, c *Config) {
			require.Equal(t, Default().Server, c.Server)
		}},
		{"own log target is kept", "targets:\n  - { name: log, type: webhook, url: 'https://x.example/hook' }\n", func(t *testing.T, c *Config) {
			require.Len(t, c.Targets, 1)
			require.Equal(t, "webhook", c.Targets[0].Type)
		}},
		{"hmac header default", "sources:\n  - { name: gh, type: alertmanager, auth: { hmac: { secret: x } } }\n", func(t *testing.T, c *Config) {
			require.Equal(t, DefaultHMACHeader, c.Sources[0].Auth.HMAC.Header)
			require.Zero(t, c.Sources[0].Auth.HMAC.MaxSkew)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadBytes("alertgate.yml", []byte(tt.yaml))
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoadDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"unknown server key", "server:\n  listen: ':1'\n  listn: ':2'\n",
			`alertgate.yml:3: unknown key "listn" in server`},
		{"unknown top-level key", "servers: {}\n",
			`alertgate.yml:1: unknown key "servers" at top level`},
		{"unknown key in list item", "sources:\n  - name: a\n    type: grafana\n  - name: b\n    type: grafana\n    auth: { bearer_tokn: x }\n",
			`alertgate.yml:6: unknown key "bearer_tokn" in sources[1].auth`},
		{"unknown key in flow mapping", "targets:\n  - { name: x, type: log, retry: { attempts: 3 } }\n",
			`alertgate.yml:2: unknown key "attempts" in targets[0].retry`},
		{"bad duration", "server:\n  read_timeout: 10 seconds\n",
			`alertgate.yml:2: server.read_timeout: invalid duration "10 seconds"`},
		{"bad cell among others on one line", "escalation:\n  matrix:\n    - { role: oncall, stop_on: resolved, P0: now, P1: soon, P2: 1h, P3: 1h }\n",
			`alertgate.yml:3: escalation.matrix[0].P1: invalid escalation cell "soon"`},
		{"wrong type", "server:\n  max_body_bytes: lots\n",
			"alertgate.yml:2: server.max_body_bytes: cannot unmarshal !!str `lots` into int"},
		{"syntax error", "server:\n  listen: [\n",
			`alertgate.yml:2: did not find expected node content`},
		{"tab indentation", "server:\n\tlisten: x\n",
			`alertgate.yml:2: found character that cannot start any token`},
		{"duplicate key", "server: {listen: x}\nserver: {listen: y}\n",
			`alertgate.yml:2: duplicate key "server" at top level (first at line 1): give each key once`},
		{"duplicate nested key", "targets:\n  - name: a\n    type: log\n    name: b\n",
			`alertgate.yml:4: duplicate key "name" in targets[0] (first at line 2)`},
		{"not a mapping", "- a\n- b\n",
			`alertgate.yml:1: the config must be a mapping`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBytes("alertgate.yml", []byte(tt.yaml))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	const file = `server:
  listn: ":8080"
  read_timeout: soon
storage: { driver: mongo }
targets:
  - { name: pd, type: pagerduty }
  - { name: hook, type: webhook, fallback: nowhere }
roles:
  oncall: { targets: [pd, ghost] }
`
	_, err := LoadBytes("alertgate.yml", []byte(file))
	require.Error(t, err)
	msgs := strings.Split(err.Error(), "\n")
	require.Equal(t, []string{
		`alertgate.yml:2: unknown key "listn" in server`,
		`alertgate.yml:3: server.read_timeout: invalid duration "soon" (use e.g. 30s, 15m, 2h, 1d, 1w)`,
		`alertgate.yml:4: storage: driver "mongo" is not one of sqlite, postgres`,
		`alertgate.yml:7: targets[1] (hook): fallback target "nowhere" is not defined in targets`,
		`alertgate.yml:9: roles.oncall: target "ghost" is not defined in targets`,
	}, msgs)
	var joined interface{ Unwrap() []error }
	require.ErrorAs(t, err, &joined)
	require.Len(t, joined.Unwrap(), len(msgs))
}

// A mistyped key inside a target is reported once, at its line; the target
// still exists, so the roles and channels naming it report nothing.
func TestMistypedTargetKeyIsReportedOnceAndTheTargetStillExists(t *testing.T) {
	const file = `targets:
  - name: hook
    type: webhook
    retry: { bogus: 1 }
    http_config: { nope: 2 }
roles:
  oncall: { targets: [hook] }
communication:
  channels:
    - { name: "#incidents", severities: [P0], targets: [hook] }
`
	_, err := LoadBytes("alertgate.yml", []byte(file))
	require.Error(t, err)
	require.Equal(t, []string{
		`alertgate.yml:4: unknown key "bogus" in targets[0].retry`,
		`alertgate.yml:5: unknown key "nope" in targets[0].http_config`,
	}, strings.Split(err.Error(), "\n"))
}

func TestDuplicateKeyIsTheOnlyError(t *testing.T) {
	const file = "roles:\n  oncall: { targets: [log] }\nserver: { listen: ':9090' }\nroles:\n  team-lead: { targets: [log] }\n"
	_, err := LoadBytes("alertgate.yml", []byte(file))
	require.EqualError(t, err, `alertgate.yml:4: duplicate key "roles" at top level (first at line 1): give each key once`)
}

func TestLoadRunsChecksWithTheOtherErrors(t *testing.T) {
	const file = "server:\n  listn: x\nrules:\n  - { name: ok, severity: P1 }\n  - { name: bad, when: 'nope', severity: P1 }\n"
	check := func(c *Config) error {
		var errs []error
		for i, r := range c.Rules {
			if r.When == "nope" {
				errs = append(errs, FieldError(fmt.Sprintf("rules[%d] (%s)", i, r.Name), fmt.Sprintf("rules[%d].when", i), errors.New("when: bad expression")))
			}
		}
		return errors.Join(errs...)
	}
	_, err := LoadBytes("alertgate.yml", []byte(file), check)
	require.Error(t, err)
	require.Equal(t, []string{
		`alertgate.yml:2: unknown key "listn" in server`,
		`alertgate.yml:5: rules[1] (bad): when: bad expression`,
	}, strings.Split(err.Error(), "\n"))
}

func TestServiceRunbooks(t *testing.T) {
	const file = `runbooks:
  - name: checkout
    title: Checkout
    url: https://wiki.example.com/checkout
    match: ['service="checkout"']
  - name: bad
    match: ['service=~"("']
`
	_, err := LoadBytes("alertgate.yml", []byte(file))
	require.ErrorContains(t, err, `alertgate.yml:7: runbooks[1] (bad): match[0] "service=~\"(\"":`)

	c, err := LoadBytes("alertgate.yml", []byte(file[:strings.Index(file, "  - name: bad")]))
	require.NoError(t, err)
	require.Equal(t, []string{`service="checkout"`}, c.Runbook("checkout").Match)
	require.Equal(t, "Service Outage", c.Runbook("service-outage").Title, "the seed's runbooks stay")
	require.Equal(t, &Runbook{Name: "https://wiki.example.com/x", Title: "https://wiki.example.com/x", URL: "https://wiki.example.com/x"},
		c.Runbook("https://wiki.example.com/x"), "an alert's own runbook_url")
	require.Nil(t, c.Runbook("nope"))
	require.Nil(t, c.Runbook(""))
}
