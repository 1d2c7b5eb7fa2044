package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// TestFile is a parsed rule test file, as run by `alertgate test-rules
// FILE...` — the `promtool test rules` habit for this gateway:
//
//	# Optional: the evaluation time for silences and maintenance windows
//	# (default: now).
//	at: 2026-11-29T03:00:00Z
//	# Optional: extra silences, as in the config.
//	silences:
//	  - { matchers: ['service="search"'], ends_at: 2026-12-01T00:00:00Z }
//	# Optional: open incidents that may inhibit the tested alerts.
//	open_incidents:
//	  - { key: INC-1, severity: P0, alert: { labels: { alertname: CheckoutDown, service: checkout } } }
//	tests:
//	  - name: payment outage is P0
//	    alert:
//	      source: alertmanager   # default "test"
//	      labels: { alertname: CheckoutDown, service: checkout, severity: critical }
//	      annotations: { summary: Checkout is down }
//	    expect: { severity: P0, category: payment, runbook: service-outage, suppressed: false }
//	  - name: a raw payload through the source's adapter
//	    source: probes
//	    payload: '{"check": "api-health", "status": "down"}'
//	    expect: { severity: P1, rule: probe-down }
//
// The alert form fills what an adapter would: title from
// annotations.summary or labels.alertname, description from
// annotations.description, service from the service labels, the severity
// word from labels.severity, the affected-users percentage from
// affected_users_pct or impact, source_type from the configured source's
// type, and the fingerprint from the labels; each may also be given.
// Only the expect keys given are checked: severity, category, runbook,
// group_key, rule, suppressed, suppressed_by (silence, maintenance,
// inhibited).
type TestFile struct {
	// At is the evaluation time; zero means now.
	At            time.Time        `yaml:"at"`
	Silences      []config.Silence `yaml:"silences"`
	OpenIncidents []TestIncident   `yaml:"open_incidents"`
	Tests         []TestCase       `yaml:"tests"`
}

// TestIncident is an open incident that may inhibit tested alerts.
type TestIncident struct {
	Key      string    `yaml:"key"`
	ID       int64     `yaml:"id"`
	Severity string    `yaml:"severity"`
	GroupKey string    `yaml:"group_key"`
	Alert    TestAlert `yaml:"alert"`
}

// TestCase is one input (alert, or payload decoded as from source) and
// what the rules must decide for it.
type TestCase struct {
	Name    string     `yaml:"name"`
	Alert   *TestAlert `yaml:"alert"`
	Source  string     `yaml:"source"`
	Payload string     `yaml:"payload"`
	Expect  Expect     `yaml:"expect"`
}

// TestAlert is an alert written out in a test file.
type TestAlert struct {
	Source      string            `yaml:"source"`
	SourceType  string            `yaml:"source_type"`
	Status      string            `yaml:"status"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	Title       string            `yaml:"title"`
	Description string            `yaml:"description"`
	Service     string            `yaml:"service"`
	Fingerprint string            `yaml:"fingerprint"`
}

// Expect lists the checked outcomes; nil fields are not checked.
type Expect struct {
	Severity     *string `yaml:"severity"`
	Category     *string `yaml:"category"`
	Runbook      *string `yaml:"runbook"`
	GroupKey     *string `yaml:"group_key"`
	Rule         *string `yaml:"rule"`
	Suppressed   *bool   `yaml:"suppressed"`
	SuppressedBy *string `yaml:"suppressed_by"`
}

// TestResult is the outcome of one test case.
type TestResult struct {
	Name string
	Pass bool
	// Diff has one line per difference, e.g.
	// `severity: want P0, got P2 (rule "default")`.
	Diff string
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// LoadTests reads a rule test file. Unknown keys are errors; messages name
// the file and line.
func LoadTests(path string) (*TestFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rule tests: %w", err)
	}
	tf := &TestFile{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(tf); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		msgs := []string{err.Error()}
		if errors.As(err, &te) {
			msgs = te.Errors
		}
		errs := make([]error, 0, len(msgs))
		for _, m := range msgs {
			if l := yamlLine.FindStringSubmatch(m); l != nil {
				errs = append(errs, fmt.Errorf("%s:%s: %s", path, l[1], l[2]))
			} else {
				errs = append(errs, fmt.Errorf("%s: %s", path, strings.TrimPrefix(m, "yaml: ")))
			}
		}
		return nil, errors.Join(errs...)
	}
	for i, tc := range tf.Tests {
		switch {
		case tc.Name == "":
			return nil, fmt.Errorf("%s: tests[%d]: name is required", path, i)
		case (tc.Alert == nil) == (tc.Payload == ""):
			return nil, fmt.Errorf("%s: tests[%d] (%s): give either alert or payload", path, i, tc.Name)
		case tc.Payload != "" && tc.Source == "":
			return nil, fmt.Errorf("%s: tests[%d] (%s): payload needs source", path, i, tc.Name)
		}
	}
	return tf, nil
}

// RunTests evaluates every test case with the engine. decode turns a
// payload into alerts as the named source's adapter does (the CLI passes
// the configured adapters); it may be nil when no case has a payload.
func RunTests(e *Engine, tf *TestFile, decode func(source string, payload []byte) ([]alert.Alert, error)) []TestResult {
	at := tf.At
	if at.IsZero() {
		at = time.Now()
	}
	silences, sources, setupErr := e.testSetup(tf, at)
	results := make([]TestResult, 0, len(tf.Tests))
	for _, tc := range tf.Tests {
		res := TestResult{Name: tc.Name}
		var diffs []string
		alerts, err := e.testAlerts(&tc, at, decode)
		switch {
		case setupErr != nil:
			diffs = append(diffs, setupErr.Error())
		case err != nil:
			diffs = append(diffs, err.Error())
		}
		for i := range alerts {
			prefix := ""
			if len(alerts) > 1 {
				prefix = fmt.Sprintf("alert[%d] ", i)
			}
			d := e.Evaluate(&alerts[i])
			sup, suppressed := e.Suppress(&alerts[i], &d, at, silences, sources)
			for _, line := range tc.Expect.diff(&d, sup, suppressed) {
				diffs = append(diffs, prefix+line)
			}
		}
		res.Pass = len(diffs) == 0
		res.Diff = strings.Join(diffs, "\n")
		results = append(results, res)
	}
	return results
}

func (e *Engine) testSetup(tf *TestFile, at time.Time) ([]Silence, []InhibitSource, error) {
	var silences []Silence
	for i, c := range tf.Silences {
		if c.ID == "" {
			c.ID = "test-" + strconv.Itoa(i+1)
		}
		s, err := ParseSilence(c, at)
		if err != nil {
			return nil, nil, fmt.Errorf("silences[%d]: %w", i, err)
		}
		silences = append(silences, s)
	}
	var sources []InhibitSource
	for i, inc := range tf.OpenIncidents {
		sev, err := alert.ParseSeverity(inc.Severity)
		if err != nil {
			return nil, nil, fmt.Errorf("open_incidents[%d]: %w", i, err)
		}
		sources = append(sources, InhibitSource{IncidentID: inc.ID, IncidentKey: inc.Key, GroupKey: inc.GroupKey,
			Severity: sev, Alert: e.testAlert(&inc.Alert, at)})
	}
	return silences, sources, nil
}

func (e *Engine) testAlerts(tc *TestCase, at time.Time, decode func(string, []byte) ([]alert.Alert, error)) ([]alert.Alert, error) {
	if tc.Alert != nil {
		return []alert.Alert{e.testAlert(tc.Alert, at)}, nil
	}
	if decode == nil {
		return nil, errors.New("payload: no decoder")
	}
	alerts, err := decode(tc.Source, []byte(tc.Payload))
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if len(alerts) == 0 {
		return nil, errors.New("payload: no alerts")
	}
	return alerts, nil
}

// testAlert fills an alert the way adapters do.
func (e *Engine) testAlert(t *TestAlert, at time.Time) alert.Alert {
	a := alert.Alert{Source: or(t.Source, "test"), Status: alert.Status(or(t.Status, string(alert.StatusFiring))),
		Labels: t.Labels, Annotations: t.Annotations, StartsAt: at}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	a.SourceType = or(t.SourceType, e.sourceTypes[a.Source])
	a.Title = or(t.Title, or(a.Annotations["summary"], a.Labels["alertname"]))
	a.Description = or(t.Description, a.Annotations["description"])
	a.Service = or(t.Service, alert.ServiceFromLabels(a.Labels))
	a.SeverityHint = a.Labels["severity"]
	a.Fingerprint = or(t.Fingerprint, alert.FingerprintLabels(a.Labels))
	for _, k := range []string{"affected_users_pct", "impact"} {
		for _, m := range []map[string]string{a.Labels, a.Annotations} {
			s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[k]), "%"))
			if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f <= 100 && !a.Impact.Known {
				a.Impact = alert.Impact{AffectedUsersPct: f, Known: true}
			}
		}
	}
	return a
}

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

// diff lists how the outcome differs from the expectation.
func (x *Expect) diff(d *Decision, sup Suppression, suppressed bool) []string {
	var out []string
	by := "by default"
	if d.Rule != "" {
		by = fmt.Sprintf("rule %q", d.Rule)
	}
	if x.Severity != nil && !strings.EqualFold(*x.Severity, d.Severity.String()) {
		out = append(out, fmt.Sprintf("severity: want %s, got %s (%s)", *x.Severity, d.Severity, by))
	}
	check := func(name string, want *string, got string) {
		if want != nil && *want != got {
			out = append(out, fmt.Sprintf("%s: want %q, got %q (%s)", name, *want, got, by))
		}
	}
	check("category", x.Category, d.Category)
	check("runbook", x.Runbook, d.Runbook)
	check("group_key", x.GroupKey, d.GroupKey)
	check("rule", x.Rule, d.Rule)
	why := "not suppressed"
	if suppressed {
		why = sup.Detail
	}
	if x.Suppressed != nil && *x.Suppressed != suppressed {
		out = append(out, fmt.Sprintf("suppressed: want %t, got %t (%s)", *x.Suppressed, suppressed, why))
	}
	if x.SuppressedBy != nil && *x.SuppressedBy != sup.Kind {
		out = append(out, fmt.Sprintf("suppressed_by: want %q, got %q (%s)", *x.SuppressedBy, sup.Kind, why))
	}
	return out
}
