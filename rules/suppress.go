package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// Kinds of Suppression.
const (
	KindSilence     = "silence"
	KindMaintenance = "maintenance"
	KindInhibited   = "inhibited"
)

// Suppression says why an alert does not page.
type Suppression struct {
	// Kind is KindSilence, KindMaintenance or KindInhibited.
	Kind string
	// ID is the silence's ID, the window's name, or the inhibiting
	// incident's key.
	ID string
	// IncidentID is the inhibiting incident (inhibition only).
	IncidentID int64
	// Detail explains it in one line for the timeline.
	Detail string
}

// InhibitSource is an open incident that may inhibit other alerts: one of
// its firing alerts, with the incident's severity as its "priority".
type InhibitSource struct {
	IncidentID int64
	// IncidentKey is the incident's human-friendly ID (INC-42).
	IncidentKey string
	// GroupKey is the incident's group key; when empty it is computed from
	// Alert with the config's group_by.
	GroupKey string
	Severity alert.Severity
	Alert    alert.Alert
}

// inhibitRule is a compiled config.InhibitRule.
type inhibitRule struct {
	name   string
	source []matcher
	target []matcher
	equal  []string
}

func newInhibitRule(i int, c *config.InhibitRule) (inhibitRule, error) {
	r := inhibitRule{name: c.Name, equal: c.Equal}
	if r.name == "" {
		r.name = fmt.Sprintf("inhibit[%d]", i)
	}
	compile := func(field string, in []string) ([]matcher, error) {
		if len(in) == 0 {
			return nil, errors.New(field + " must list at least one matcher")
		}
		out := make([]matcher, 0, len(in))
		for _, s := range in {
			m, err := newMatcher(s)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", field, s, err)
			}
			out = append(out, m)
		}
		return out, nil
	}
	var err error
	if r.source, err = compile("source_matchers", c.SourceMatchers); err != nil {
		return inhibitRule{}, fmt.Errorf("inhibit rule %q: %w", r.name, err)
	}
	if r.target, err = compile("target_matchers", c.TargetMatchers); err != nil {
		return inhibitRule{}, fmt.Errorf("inhibit rule %q: %w", r.name, err)
	}
	return r, nil
}

func matchAll(ms []matcher, v *view) bool {
	for i := range ms {
		if !ms[i].matches(v.value(ms[i].Name)) {
			return false
		}
	}
	return true
}

// Suppress decides whether an evaluated alert pages. It checks, in order,
// silences (the config's, then those given, e.g. from the store), then
// maintenance windows, then inhibition by the open incidents in sources,
// and returns the first that applies. Matchers see the same view as rule
// matchers plus "priority" (the decided severity, P0…P3) and the decided
// "category".
//
// Inhibition follows Alertmanager: a rule applies when the alert matches
// its target matchers, a source alert (with the source incident's severity
// as priority) matches its source matchers, and every equal label has the
// same non-empty value on both. Unlike Alertmanager, where a label missing
// on both sides counts as equal, an equal label that is empty or missing on
// the source or the target never matches: with `equal: [service]` a P0
// without a service inhibits nothing, instead of muting every other alert
// that lacks one. An alert is never inhibited by its own incident (same
// group key) or by itself (same source and fingerprint), and resolved
// source alerts inhibit nothing.
func (e *Engine) Suppress(a *alert.Alert, d *Decision, now time.Time, silences []Silence, sources []InhibitSource) (Suppression, bool) {
	v := view{a: a, category: d.Category, priority: d.Severity.String()}
	for _, list := range [2][]Silence{e.silences, silences} {
		for i := range list {
			s := &list[i]
			if s.Active(now) && s.matches(&v) {
				return Suppression{Kind: KindSilence, ID: s.ID, Detail: silenceDetail(s)}, true
			}
		}
	}
	for i := range e.windows {
		w := &e.windows[i]
		if end, ok := w.active(now); ok && w.matches(&v) {
			return Suppression{Kind: KindMaintenance, ID: w.name,
				Detail: fmt.Sprintf("maintenance window %s until %s", w.name, end.Format(time.RFC3339))}, true
		}
	}
	for i := range e.inhibit {
		r := &e.inhibit[i]
		if !matchAll(r.target, &v) {
			continue
		}
		for j := range sources {
			src := &sources[j]
			if src.Alert.Status == alert.StatusResolved || e.ownIncident(a, d, src) {
				continue
			}
			sv := view{a: &src.Alert, priority: src.Severity.String()}
			if matchAll(r.source, &sv) && equalLabels(r.equal, &v, &sv) {
				return Suppression{Kind: KindInhibited, ID: src.IncidentKey, IncidentID: src.IncidentID,
					Detail: inhibitDetail(r, src, &v)}, true
			}
		}
	}
	return Suppression{}, false
}

// CanInhibit reports whether an open incident could inhibit anything: its
// alert (with the incident's severity as priority) matches some inhibit
// rule's source matchers and has a value for each of its equal labels.
// The store keeps only such incidents as sources, so that inhibition costs
// nothing per alert when few incidents qualify (with the default rule:
// only open P0s with a service).
func (e *Engine) CanInhibit(src *InhibitSource) bool {
	if src.Alert.Status == alert.StatusResolved {
		return false
	}
	sv := view{a: &src.Alert, priority: src.Severity.String()}
	for i := range e.inhibit {
		if r := &e.inhibit[i]; matchAll(r.source, &sv) && hasValues(r.equal, &sv) {
			return true
		}
	}
	return false
}

// InhibitTargetKey returns the values of the labels every inhibit rule
// requires equal (see Suppress), for an alert about to open an incident:
// only an open incident whose InhibitSourceKey is the same can inhibit
// it, so the store hands Suppress only those. indexed is false when the
// rules share no equal label (every candidate must be tried); key is ""
// with indexed true when a value is empty (nothing can inhibit the alert).
func (e *Engine) InhibitTargetKey(a *alert.Alert, d *Decision) (key string, indexed bool) {
	return inhibitKey(e.inhibitKey, &view{a: a, category: d.Category, priority: d.Severity.String()})
}

// InhibitSourceKey is InhibitTargetKey for an open incident as a source.
func (e *Engine) InhibitSourceKey(src *InhibitSource) (key string, indexed bool) {
	return inhibitKey(e.inhibitKey, &view{a: &src.Alert, priority: src.Severity.String()})
}

// inhibitKey joins the values of names in v; "" when one is empty.
func inhibitKey(names []string, v *view) (string, bool) {
	if len(names) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, n := range names {
		val := v.value(n)
		if val == "" {
			return "", true
		}
		b.WriteString(strconv.Quote(val))
		b.WriteByte(',')
	}
	return b.String(), true
}

// hasValues reports whether every name has a non-empty value in v.
func hasValues(names []string, v *view) bool {
	for _, n := range names {
		if v.value(n) == "" {
			return false
		}
	}
	return true
}

// ownIncident reports whether src is the alert's own incident or the alert
// itself.
func (e *Engine) ownIncident(a *alert.Alert, d *Decision, src *InhibitSource) bool {
	if src.Alert.Source == a.Source && src.Alert.Fingerprint == a.Fingerprint {
		return true
	}
	key := src.GroupKey
	if key == "" {
		key = groupKey(&src.Alert, e.groupBy)
	}
	return key == d.GroupKey
}

// equalLabels reports whether every name has the same value on target and
// source, and that value is not empty (see Suppress).
func equalLabels(names []string, target, source *view) bool {
	for _, n := range names {
		if tv := target.value(n); tv == "" || tv != source.value(n) {
			return false
		}
	}
	return true
}

func silenceDetail(s *Silence) string {
	var b strings.Builder
	fmt.Fprintf(&b, "silenced by %s until %s", s.ID, s.EndsAt.Format(time.RFC3339))
	if s.CreatedBy != "" {
		fmt.Fprintf(&b, " (%s", s.CreatedBy)
		if s.Comment != "" {
			fmt.Fprintf(&b, ": %s", s.Comment)
		}
		b.WriteByte(')')
	} else if s.Comment != "" {
		fmt.Fprintf(&b, " (%s)", s.Comment)
	}
	return b.String()
}

func inhibitDetail(r *inhibitRule, src *InhibitSource, target *view) string {
	var b strings.Builder
	fmt.Fprintf(&b, "inhibited by %s (%s) via %s", src.IncidentKey, src.Severity, r.name)
	for i, n := range r.equal {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", n, target.value(n))
	}
	return b.String()
}
