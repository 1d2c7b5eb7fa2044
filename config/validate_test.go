package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // every message expected, in order
	}{
		{"empty listen", func(c *Config) { c.Server.Listen = " " },
			[]string{"server: listen is required"}},
		{"negative silence cap", func(c *Config) { c.Server.MaxSilenceDuration = -1 },
			[]string{"server: max_silence_duration must be positive"}},
		{"ingest limits", func(c *Config) {
			c.Server.MaxDecodingBytes = c.Server.MaxBodyBytes - 1
			c.Server.AlertLimits.MaxLabels, c.Server.AlertLimits.MaxAnnotationBytes = 0, -1
		}, []string{
			"server: max_decoding_bytes (1048575) must be at least max_body_bytes (1048576)",
			"server: max_labels must be positive",
			"server: max_annotation_bytes must be positive",
		}},
		{"bad log level and format", func(c *Config) { c.Log = Log{Level: "loud", Format: "xml"} },
			[]string{`log: level "loud" is not one of debug, info, warn, error`, `log: format "xml" is not one of json, console`}},
		{"postgres needs dsn", func(c *Config) { c.Storage = Storage{Driver: "postgres"} },
			[]string{"storage: dsn (or dsn_file) is required for driver postgres"}},
		{"sqlite needs path", func(c *Config) { c.Storage.Path = "" },
			[]string{"storage: path is required for driver sqlite"}},
		{"pool settings are for postgres", func(c *Config) { c.Storage.MaxOpenConns, c.Storage.StatementTimeout = 8, Duration(time.Second) },
			[]string{"storage: max_open_conns applies to driver postgres only (SQLite uses one writer connection)",
				"storage: statement_timeout applies to driver postgres only (SQLite uses one writer connection)"}},
		{"postgres pool", func(c *Config) {
			c.Storage = Storage{Driver: "postgres", DSN: "postgres://db/alertgate", MaxOpenConns: 2, MaxIdleConns: 3, StatementTimeout: -1}
		}, []string{
			"storage: max_idle_conns 3 is more than max_open_conns 2",
			"storage: max_open_conns must be at least 4 (ingest, steps, deliveries and reads run at once)",
			"storage: statement_timeout must not be negative",
		}},
		{"source names", func(c *Config) {
			c.Sources = append(c.Sources, Source{Name: "Grafana", Type: "grafana"}, Source{Name: "a/b", Type: "grafana"}, Source{Type: "grafana"})
		}, []string{
			"sources[3] (Grafana): name is already used by sources[1]",
			"sources[4] (a/b): name may only use letters, digits, '-' and '_' (it is part of the URL)",
			"sources[5]: name is required",
		}},
		{"source type and mapping", func(c *Config) {
			c.Sources = []Source{
				{Name: "a", Type: "nagios"},
				{Name: "b", Type: "generic"},
				{Name: "c", Type: "generic", Mapping: &Mapping{}},
				{Name: "d", Type: "grafana", Mapping: &Mapping{Title: "x"}},
			}
		}, []string{
			`sources[0] (a): type "nagios" is not one of alertmanager, grafana, healthcheck, generic`,
			"sources[1] (b): type generic requires a mapping",
			"sources[2] (c): mapping.title is required",
			"sources[3] (d): mapping is only allowed for type generic",
		}},
		{"source auth", func(c *Config) {
			c.Sources[0].Auth = Auth{Basic: &BasicAuth{}, HMAC: &HMACAuth{MaxSkew: -1}}
		}, []string{
			"sources[0] (alertmanager): auth.basic.username is required",
			"sources[0] (alertmanager): auth.basic.password (or password_file) is required",
			"sources[0] (alertmanager): auth.hmac.secret (or secret_file) is required",
			"sources[0] (alertmanager): auth.hmac.max_skew must not be negative",
		}},
		{"severity durations", func(c *Config) { c.Severities.P2.Updates = 0 },
			[]string{"severities.P2: updates must be positive"}},
		{"rules", func(c *Config) {
			c.Rules = []Rule{{Name: "r", Match: []string{"not a matcher"}, Severity: "P7", Runbook: "nope"}, {Match: []string{`x=~"("`}}}
		}, []string{
			`rules[0] (r): match[0] "not a matcher": bad matcher format: not a matcher`,
			`rules[0] (r): unknown severity "P7" (want P0, P1, P2 or P3)`,
			`rules[0] (r): runbook "nope" is not defined in runbooks`,
			"rules[1]: match[0] \"x=~\\\"(\\\"\": error parsing regexp: missing closing ): `^(?:()$`",
		}},
		{"runbooks", func(c *Config) { c.Runbooks = append(c.Runbooks, Runbook{Name: "database"}, Runbook{}) },
			[]string{"runbooks[3] (database): name is already used by runbooks[0]", "runbooks[4]: name is required"}},
		{"targets", func(c *Config) {
			c.Targets = []Target{
				{Name: "pd", Type: "pagerduty"},
				{Name: "hook", Type: "webhook"},
				{Name: "chat", Type: "slack"},
				{Name: "hook", Type: "pigeon"},
				{Name: "self", Type: "log", Fallback: "self"},
				{Name: "lost", Type: "log", Fallback: "nowhere"},
				{Name: "slow", Type: "log", Timeout: -1, Concurrency: -1, Retry: Retry{MaxAge: -1, MaxAttempts: -1, Backoff: Duration(time.Minute), MaxBackoff: Duration(time.Second)}, Breaker: Breaker{Failures: -1, OpenFor: -1}},
			}
		}, []string{
			"targets[3] (hook): name is already used by targets[1]",
			"targets[4] (self): fallback names the target itself",
			`targets[5] (lost): fallback target "nowhere" is not defined in targets`,
			"targets[6] (slow): timeout must not be negative",
			"targets[6] (slow): concurrency -1 is not between 1 and 256",
			"targets[6] (slow): retry.max_age must not be negative",
			"targets[6] (slow): retry.max_attempts must not be negative",
			"targets[6] (slow): retry.max_backoff (1s) is less than retry.backoff (1m)",
			"targets[6] (slow): breaker.failures must not be negative",
			"targets[6] (slow): breaker.open_for must not be negative",
		}},
		{"target timeout within the delivery lease", func(c *Config) {
			c.Targets = append(c.Targets, Target{Name: "tarpit", Type: "log", Timeout: Duration(90 * time.Second)})
		}, []string{
			"targets[1] (tarpit): timeout 1m30s is longer than 1m: a claimed delivery is leased for 2m, and an attempt outliving its lease may be sent again by another replica",
		}},
		{"target concurrency capped", func(c *Config) {
			c.Targets = append(c.Targets, Target{Name: "wide", Type: "log", Concurrency: 1000})
		}, []string{"targets[1] (wide): concurrency 1000 is not between 1 and 256"}},
		{"fallback cycle reported once", func(c *Config) {
			c.Targets = append(c.Targets,
				Target{Name: "a", Type: "log", Fallback: "b"},
				Target{Name: "b", Type: "log", Fallback: "c"},
				Target{Name: "c", Type: "log", Fallback: "a"},
				Target{Name: "d", Type: "log", Fallback: "a"},
			)
		}, []string{"targets[1] (a): fallback cycle: a -> b -> c -> a"}},
		{"fallback to the built-in log", func(c *Config) {
			c.Targets = []Target{{Name: "hook", Type: "webhook", Fallback: LogTarget}}
		}, nil},
		{"roles", func(c *Config) {
			c.Roles["oncall"] = Role{Targets: []string{"log", "pager"}}
			c.Roles["sre"] = Role{}
		}, []string{
			`roles.oncall: target "pager" is not defined in targets`,
			"roles.sre: targets is empty: the role would never be paged",
		}},
		{"matrix", func(c *Config) {
			delete(c.Roles, "cto")
			c.Escalation.Matrix[0].StopOn = "closed"
			c.Escalation.Matrix[0].Repeat = &Repeat{Limit: -1}
			c.Escalation.Matrix[1].Role = "oncall"
		}, []string{
			`escalation.matrix[0] (oncall): stop_on "closed" is not one of acknowledged, resolved`,
			"escalation.matrix[0] (oncall): repeat.every must be positive",
			"escalation.matrix[0] (oncall): repeat.limit must not be negative",
			"escalation.matrix[1] (oncall): role already has a row: escalation.matrix[0]",
			`escalation.matrix[3] (cto): role "cto" is not defined in roles (add e.g. cto: {targets: [log]} under roles, or drop its row from escalation.matrix)`,
		}},
		{"repeat severities", func(c *Config) {
			c.Escalation.Matrix[0].Repeat.Severities = []string{"P1", "urgent"}
		}, []string{
			`escalation.matrix[0] (oncall): unknown severity "urgent" (want P0, P1, P2 or P3)`,
		}},
		{"flapping", func(c *Config) {
			c.Dedup.Flapping = Flapping{Reopens: -1, Role: "sre"}
		}, []string{
			"dedup: flapping.reopens must not be negative (0 turns flapping off)",
			`dedup: flapping.role "sre" has no row in escalation.matrix`,
		}},
		{"flapping without window", func(c *Config) {
			c.Dedup.Flapping = Flapping{Reopens: 2}
		}, []string{
			"dedup: flapping.window must be positive when flapping.reopens is set",
		}},
		{"flapping off", func(c *Config) {
			c.Dedup.Flapping = Flapping{}
		}, nil},
		{"digests", func(c *Config) {
			c.Escalation.Digests = Digests{TimeZone: "Mars/Olympus", At: "9am", Weekday: "someday", MonthDay: 31}
		}, []string{
			`escalation.digests: time_zone "Mars/Olympus" is not an IANA time zone (e.g. UTC, Europe/Berlin)`,
			`escalation.digests: time of day "9am" is not HH:MM (e.g. 09:00)`,
			`escalation.digests: weekday "someday" is not a day name (e.g. monday)`,
			"escalation.digests: month_day 31 is not within 1..28",
		}},
		{"communication", func(c *Config) {
			c.Communication.Channels[0].Severities = []string{"P0", "urgent"}
			c.Communication.Channels[1] = Channel{}
			c.Communication.StatusPage = StatusPage{URL: "status", Severities: []string{"P9"}, Targets: []string{"statuspage"}}
		}, []string{
			`communication.channels[0] (#incidents): unknown severity "urgent" (want P0, P1, P2 or P3)`,
			"communication.channels[1]: name is required",
			"communication.channels[1]: severities is empty: the channel would never be told",
			"communication.channels[1]: targets is empty: the channel would never be told",
			"communication.status_page: url must be an absolute http(s) URL",
			`communication.status_page: unknown severity "P9" (want P0, P1, P2 or P3)`,
			`communication.status_page: target "statuspage" is not defined in targets`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(c)
			err := c.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tt.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestValidateAcceptsImplicitLogTarget(t *testing.T) {
	c := Default()
	c.Targets = nil // hand-built configs need not list log
	require.NoError(t, c.Validate())
}

func TestParseClockAndWeekday(t *testing.T) {
	tests := []struct {
		in       string
		h, m     int
		hasError bool
	}{
		{"09:00", 9, 0, false},
		{"23:59", 23, 59, false},
		{"24:00", 0, 0, true},
		{"9:00", 0, 0, true},
		{"+9:00", 0, 0, true},
		{"", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, m, err := ParseClock(tt.in)
			require.Equal(t, tt.hasError, err != nil)
			require.Equal(t, tt.h, h)
			require.Equal(t, tt.m, m)
		})
	}
	d, err := ParseWeekday("Friday")
	require.NoError(t, err)
	require.Equal(t, time.Friday, d)
}
