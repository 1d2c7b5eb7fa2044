package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// Decision is what the rules decided for one alert.
type Decision struct {
	Severity alert.Severity
	Category string
	Runbook  string
	// GroupKey decides which open incident the alert joins.
	GroupKey string
	// Labels are extra labels rules attached.
	Labels map[string]string
	// Rule is the rule that set the severity ("" when the engine's
	// fallback did).
	Rule string
	// Matched lists every rule that matched, in order.
	Matched []string
}

// Reason explains the decision in one line for the incident timeline.
func (d *Decision) Reason() string {
	var b strings.Builder
	fmt.Fprintf(&b, "severity %s", d.Severity)
	if d.Rule != "" {
		fmt.Fprintf(&b, " by rule %q", d.Rule)
	} else {
		b.WriteString(" by default")
	}
	if d.Category != "" {
		fmt.Fprintf(&b, ", category %s", d.Category)
	}
	if d.Runbook != "" {
		fmt.Fprintf(&b, ", runbook %s", d.Runbook)
	}
	if len(d.Matched) > 0 {
		fmt.Fprintf(&b, " (matched: %s)", strings.Join(d.Matched, ", "))
	}
	return b.String()
}

type rule struct {
	name     string
	matchers []*labels.Matcher
	severity *alert.Severity
	category string
	runbook  string
	labels   map[string]string
	groupBy  []string
	cont     bool
}

// Engine evaluates the configured rules. It is immutable and safe for
// concurrent use; a config reload builds a new Engine.
type Engine struct {
	rules    []rule
	groupBy  []string
	fallback alert.Severity
}

// DefaultSeverity is the severity of an alert no rule classified.
const DefaultSeverity = alert.P2

// New compiles the rules of a validated config.
func New(cfg *config.Config) (*Engine, error) {
	e := &Engine{groupBy: cfg.Dedup.GroupBy, fallback: DefaultSeverity}
	if len(e.groupBy) == 0 {
		e.groupBy = []string{"alertname", "service"}
	}
	for i, rc := range cfg.Rules {
		r := rule{name: rc.Name, category: rc.Category, runbook: rc.Runbook, labels: rc.Labels, groupBy: rc.GroupBy, cont: rc.Continue}
		if r.name == "" {
			r.name = fmt.Sprintf("rules[%d]", i)
		}
		for _, m := range rc.Match {
			pm, err := labels.ParseMatcher(m)
			if err != nil {
				return nil, fmt.Errorf("rule %q: matcher %q: %w", r.name, m, err)
			}
			r.matchers = append(r.matchers, pm)
		}
		if rc.Severity != "" {
			s, err := alert.ParseSeverity(rc.Severity)
			if err != nil {
				return nil, fmt.Errorf("rule %q: %w", r.name, err)
			}
			r.severity = &s
		}
		e.rules = append(e.rules, r)
	}
	return e, nil
}

// value returns what a matcher named name sees: the label, else the
// alert field of that name.
func value(a *alert.Alert, name string) string {
	if v, ok := a.Labels[name]; ok {
		return v
	}
	switch name {
	case "source":
		return a.Source
	case "source_type":
		return a.SourceType
	case "title":
		return a.Title
	case "description":
		return a.Description
	case "service":
		return a.Service
	case "severity":
		return a.SeverityHint
	}
	return ""
}

func (r *rule) matches(a *alert.Alert) bool {
	for _, m := range r.matchers {
		if !m.Matches(value(a, m.Name)) {
			return false
		}
	}
	return true
}

// Evaluate classifies one alert. Rules are tried in order: a matching rule
// fills what is still unset (severity, category, runbook, group_by) and
// adds its labels; evaluation stops at the first match without continue.
func (e *Engine) Evaluate(a *alert.Alert) Decision {
	var d Decision
	var sevSet bool
	var groupBy []string
	for i := range e.rules {
		r := &e.rules[i]
		if !r.matches(a) {
			continue
		}
		d.Matched = append(d.Matched, r.name)
		if r.severity != nil && !sevSet {
			d.Severity, d.Rule, sevSet = *r.severity, r.name, true
		}
		if d.Category == "" {
			d.Category = r.category
		}
		if d.Runbook == "" {
			d.Runbook = r.runbook
		}
		if groupBy == nil && len(r.groupBy) > 0 {
			groupBy = r.groupBy
		}
		for k, v := range r.labels {
			if d.Labels == nil {
				d.Labels = make(map[string]string, len(r.labels))
			}
			if _, ok := d.Labels[k]; !ok {
				d.Labels[k] = v
			}
		}
		if !r.cont {
			break
		}
	}
	if !sevSet {
		d.Severity = e.fallback
	}
	if groupBy == nil {
		groupBy = e.groupBy
	}
	d.GroupKey = GroupKey(a, groupBy)
	return d
}

// GroupKey joins the values of the group-by names as `name="value",...`.
// When every value is empty the alert is grouped alone (by source and
// fingerprint), so unrelated unlabelled alerts never share an incident.
func GroupKey(a *alert.Alert, by []string) string {
	var b strings.Builder
	empty := true
	names := by
	if !sort.StringsAreSorted(names) {
		names = append([]string(nil), by...)
		sort.Strings(names)
	}
	for i, n := range names {
		v := value(a, n)
		if v != "" {
			empty = false
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(v)
		b.WriteByte('"')
	}
	if empty {
		return "source=" + a.Source + ",fingerprint=" + a.Fingerprint
	}
	return b.String()
}
