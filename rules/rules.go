package rules

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// Decision is what the rules decided for one alert.
type Decision struct {
	Severity alert.Severity
	// Category is what the rules decided, else the alert's category label.
	Category string
	// Runbook is what the incident's runbook will be: the alert's own
	// runbook_url annotation (an http(s) URL), else the name of the first
	// configured runbook whose match holds, else the runbook a rule
	// attached (the default rules attach one per category), else "".
	Runbook string
	// RunbookURL is the link to show with it: the annotation, or the
	// configured runbook's url ("" when it has none).
	RunbookURL string
	// GroupKey decides which open incident the alert joins.
	GroupKey string
	// Labels are extra labels rules attached.
	Labels map[string]string
	// Rule is the rule that set the severity ("" when the engine's
	// fallback did).
	Rule string
	// Matched lists every rule that matched, in order. Only Explain and
	// Matched fill it; Evaluate leaves it nil to stay allocation-free.
	Matched []string
	// Trace is every rule tried, in order, and why it matched or not. Only
	// Explain fills it.
	Trace []Step
}

// Step is one rule tried by Explain.
type Step struct {
	Rule    string
	Matched bool
	// Detail says why: the matcher that failed, the keyword found, the
	// expression's error, what the rule set.
	Detail string
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
	name        string
	matchers    []matcher
	keywords    [][]string
	when        *vm.Program
	severity    alert.Severity
	hasSeverity bool
	category    string
	runbook     string
	labels      map[string]string
	groupBy     []string
	cont        bool
}

// Engine evaluates the configured rules, silences, maintenance windows
// and inhibit rules. It is immutable and safe for concurrent use; a config
// reload builds a new Engine.
type Engine struct {
	rules    []rule
	groupBy  []string
	fallback alert.Severity
	silences []Silence
	windows  []window
	inhibit  []inhibitRule
	// inhibitKey are the names every inhibit rule requires equal on source
	// and target (InhibitTargetKey); nil: none.
	inhibitKey  []string
	sourceTypes map[string]string
	// runbooks are the configured runbooks with matchers, in order;
	// runbookURLs the url of every configured runbook by name.
	runbooks    []runbookMatch
	runbookURLs map[string]string
}

// runbookMatch is a configured runbook attached by its own matchers.
type runbookMatch struct {
	name, url string
	matchers  []matcher
}

// DefaultSeverity is the severity of an alert no rule classified.
const DefaultSeverity = alert.P2

// DefaultGroupBy groups alerts when the config names no group_by labels.
var DefaultGroupBy = []string{"alertname", "service"}

// New compiles a validated config: rules (matchers and `when`
// expressions), silences, maintenance windows and inhibit rules. Errors
// name the rule, silence or window at fault.
func New(cfg *config.Config) (*Engine, error) {
	e := &Engine{groupBy: sortedCopy(cfg.Dedup.GroupBy), fallback: DefaultSeverity, sourceTypes: map[string]string{}}
	if len(e.groupBy) == 0 {
		e.groupBy = DefaultGroupBy
	}
	for _, s := range cfg.Sources {
		e.sourceTypes[s.Name] = s.Type
	}
	for i := range cfg.Rules {
		r, err := compileRule(i, &cfg.Rules[i])
		if err != nil {
			return nil, err
		}
		e.rules = append(e.rules, r)
	}
	if err := e.compileSuppression(cfg); err != nil {
		return nil, err
	}
	if err := e.compileRunbooks(cfg.Runbooks); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Engine) compileRunbooks(rbs []config.Runbook) error {
	e.runbookURLs = make(map[string]string, len(rbs))
	for i := range rbs {
		rb := &rbs[i]
		e.runbookURLs[rb.Name] = rb.URL
		if len(rb.Match) == 0 {
			continue
		}
		m := runbookMatch{name: rb.Name, url: rb.URL}
		for _, s := range rb.Match {
			mt, err := newMatcher(s)
			if err != nil {
				return fmt.Errorf("runbook %q: matcher %q: %w", rb.Name, s, err)
			}
			m.matchers = append(m.matchers, mt)
		}
		e.runbooks = append(e.runbooks, m)
	}
	return nil
}

// RunbookAnnotation is the annotation (Alertmanager's and Grafana's
// convention) whose URL is an alert's own runbook.
const RunbookAnnotation = "runbook_url"

// attachRunbook settles the decision's runbook (see Decision.Runbook)
// once the rules decided the category. It does not allocate.
func (e *Engine) attachRunbook(d *Decision, v *view) {
	if u := v.a.Annotations[RunbookAnnotation]; isRunbookURL(u) {
		d.Runbook, d.RunbookURL = u, u
		return
	}
	for i := range e.runbooks {
		if rb := &e.runbooks[i]; matchAll(rb.matchers, v) {
			d.Runbook, d.RunbookURL = rb.name, rb.url
			return
		}
	}
	if d.Runbook != "" {
		d.RunbookURL = e.runbookURLs[d.Runbook]
	}
}

// isRunbookURL reports whether an annotation is a usable link: an
// absolute http(s) URL (a bare word or "TODO" is not).
func isRunbookURL(s string) bool {
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Host != ""
}

func compileRule(i int, rc *config.Rule) (rule, error) {
	r := rule{name: rc.Name, category: rc.Category, runbook: rc.Runbook, labels: rc.Labels,
		groupBy: sortedCopy(rc.GroupBy), cont: rc.Continue, keywords: compileKeywords(rc.Keywords)}
	if r.name == "" {
		r.name = fmt.Sprintf("rules[%d]", i)
	}
	for _, s := range rc.Match {
		m, err := newMatcher(s)
		if err != nil {
			return rule{}, fmt.Errorf("rule %q: matcher %q: %w", r.name, s, err)
		}
		r.matchers = append(r.matchers, m)
	}
	if len(rc.Keywords) > 0 && len(r.keywords) == 0 {
		return rule{}, fmt.Errorf("rule %q: keywords contain no words", r.name)
	}
	if rc.When != "" {
		p, err := compileWhen(rc.When)
		if err != nil {
			return rule{}, fmt.Errorf("rule %q: when: %w", r.name, err)
		}
		r.when = p
	}
	if rc.Severity != "" {
		s, err := alert.ParseSeverity(rc.Severity)
		if err != nil {
			return rule{}, fmt.Errorf("rule %q: %w", r.name, err)
		}
		r.severity, r.hasSeverity = s, true
	}
	return r, nil
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// match reports whether the rule holds for the view. When why is not nil
// it receives the reason, for Explain.
func (r *rule) match(v *view, why *string) bool {
	for i := range r.matchers {
		m := &r.matchers[i]
		if got := v.value(m.Name); !m.matches(got) {
			if why != nil {
				*why = fmt.Sprintf("%s does not hold (%s is %q)", m.String(), m.Name, got)
			}
			return false
		}
	}
	if len(r.keywords) > 0 {
		k := v.keyword(r.keywords)
		if k < 0 {
			if why != nil {
				*why = "no keyword in " + keywordFields
			}
			return false
		}
		if why != nil {
			*why = fmt.Sprintf("keyword %q; ", strings.Join(r.keywords[k], " "))
		}
	}
	if r.when != nil {
		ok, err := runWhen(r.when, v)
		if why != nil {
			switch {
			case err != nil:
				*why += err.Error()
			case !ok:
				*why += "when is false"
			default:
				*why += "when is true; "
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Evaluate classifies one alert. Rules are tried in order: a matching rule
// fills what is still unset (severity, category, runbook, group_by) and
// adds its labels; evaluation stops at the first match without continue.
// It does not allocate beyond the group key and the labels rules add (and
// the expression environment, when a `when` runs).
func (e *Engine) Evaluate(a *alert.Alert) Decision { return e.evaluate(a, false, false) }

// Explain is Evaluate that also records every rule tried in Trace and
// every rule matched in Matched. It is the slow path, for the CLI and API.
func (e *Engine) Explain(a *alert.Alert) Decision { return e.evaluate(a, true, true) }

// Matched is Evaluate that also lists every rule that matched in Matched,
// without Explain's trace (the reasons why each rule matched or not,
// written out for every rule tried): what a new incident's timeline says
// of its classification (Decision.Reason), at about Evaluate's cost.
func (e *Engine) Matched(a *alert.Alert) Decision { return e.evaluate(a, true, false) }

func (e *Engine) evaluate(a *alert.Alert, names, explain bool) Decision {
	var d Decision
	v := view{a: a}
	var why *string
	if explain {
		why = new(string)
	}
	sevSet := false
	var groupBy []string
	for i := range e.rules {
		r := &e.rules[i]
		if explain {
			*why = ""
		}
		if !r.match(&v, why) {
			if explain {
				d.Trace = append(d.Trace, Step{Rule: r.name, Detail: *why})
			}
			continue
		}
		if names {
			d.Matched = append(d.Matched, r.name)
		}
		if explain {
			d.Trace = append(d.Trace, Step{Rule: r.name, Matched: true, Detail: *why + r.effect(&d, sevSet)})
		}
		if r.hasSeverity && !sevSet {
			d.Severity, d.Rule, sevSet = r.severity, r.name, true
		}
		if d.Category == "" && r.category != "" {
			d.Category, v.category = r.category, r.category
		}
		if d.Runbook == "" {
			d.Runbook = r.runbook
		}
		if groupBy == nil && len(r.groupBy) > 0 {
			groupBy = r.groupBy
		}
		for k, val := range r.labels {
			if d.Labels == nil {
				d.Labels = make(map[string]string, len(r.labels))
			}
			if _, ok := d.Labels[k]; !ok {
				d.Labels[k] = val
			}
		}
		if !r.cont {
			break
		}
	}
	if !sevSet {
		d.Severity = e.fallback
	}
	if d.Category == "" {
		d.Category = a.Labels["category"]
	}
	e.attachRunbook(&d, &v)
	if groupBy == nil {
		groupBy = e.groupBy
	}
	d.GroupKey = groupKey(a, groupBy)
	return d
}

// effect describes what a matching rule sets, given the decision so far.
func (r *rule) effect(d *Decision, sevSet bool) string {
	var parts []string
	if r.hasSeverity && !sevSet {
		parts = append(parts, "severity "+r.severity.String())
	}
	if r.category != "" && d.Category == "" {
		parts = append(parts, "category "+r.category)
	}
	if r.runbook != "" && d.Runbook == "" {
		parts = append(parts, "runbook "+r.runbook)
	}
	if len(r.groupBy) > 0 {
		parts = append(parts, "group_by "+strings.Join(r.groupBy, ","))
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing new")
	}
	s := "sets " + strings.Join(parts, ", ")
	if r.cont {
		s += "; continue"
	}
	return s
}

// GroupKey joins the values of the group-by names as `name="value",...`,
// names sorted. When every value is empty the alert is grouped alone (by
// source and fingerprint), so unrelated unlabelled alerts never share an
// incident.
func GroupKey(a *alert.Alert, by []string) string {
	if !sort.StringsAreSorted(by) {
		by = sortedCopy(by)
	}
	return groupKey(a, by)
}

// groupKey is GroupKey for sorted names, in one allocation.
func groupKey(a *alert.Alert, names []string) string {
	n, empty := 0, true
	for _, name := range names {
		v := value(a, name)
		if v != "" {
			empty = false
		}
		n += len(name) + len(v) + 4
	}
	if empty {
		return "source=" + a.Source + ",fingerprint=" + a.Fingerprint
	}
	var b strings.Builder
	b.Grow(n)
	for i, name := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(value(a, name))
		b.WriteByte('"')
	}
	return b.String()
}
