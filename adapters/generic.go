package adapters

// Generic JSON, mapped to alerts by the source's config.Mapping of GJSON
// paths (https://github.com/tidwall/gjson/blob/master/SYNTAX.md). For
//
//	{"events": [{"id": "evt-1", "summary": "Disk full on db-1", "state": "OPEN", "prio": "critical",
//	             "app": "billing", "host": {"name": "db-1", "dc": "fra"}, "at": 1724495670}]}
//
// the mapping
//
//	mapping:
//	  alerts: events              # each element is one alert; the paths below are relative to it
//	  title: summary              # required
//	  status: state               # compared case-insensitively with firing_values / resolved_values
//	  fingerprint: id
//	  severity: prio
//	  service: app
//	  starts_at: at               # RFC 3339 string, or Unix seconds (milliseconds above 1e12)
//	  labels: {host: host.name}
//	  labels_from: host           # every scalar member becomes a label; labels above win
//
// gives one firing alert. Without status every alert fires; without
// fingerprint the fingerprint hashes the mapped labels (or the title when
// there are none). Default firing values: firing, alerting, triggered,
// down, critical, problem, open; resolved: resolved, ok, up, recovered,
// closed, normal.

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// Default status values of a generic mapping, compared case-insensitively.
var (
	DefaultFiringValues   = []string{"firing", "alerting", "triggered", "down", "critical", "problem", "open"}
	DefaultResolvedValues = []string{"resolved", "ok", "up", "recovered", "closed", "normal"}
)

// Generic decodes any JSON body with a config.Mapping.
type Generic struct {
	source
	m        config.Mapping
	firing   map[string]bool
	resolved map[string]bool
}

var _ Decoder = (*Generic)(nil)

func newGeneric(base source, m *config.Mapping) (*Generic, error) {
	if m == nil {
		return nil, fmt.Errorf("source %q: type generic needs a mapping", base.name)
	}
	if err := validateMapping(m); err != nil {
		return nil, fmt.Errorf("source %q: mapping.%w", base.name, err)
	}
	g := &Generic{
		source:   base,
		m:        *m,
		firing:   valueSet(m.FiringValues, DefaultFiringValues),
		resolved: valueSet(m.ResolvedValues, DefaultResolvedValues),
	}
	for v := range g.firing {
		if g.resolved[v] {
			return nil, fmt.Errorf("source %q: mapping: %q is both a firing and a resolved value", base.name, v)
		}
	}
	return g, nil
}

// validateMapping checks that the title is set and that no path is blank
// or padded with spaces.
func validateMapping(m *config.Mapping) error {
	if strings.TrimSpace(m.Title) == "" {
		return fmt.Errorf("title: required")
	}
	paths := map[string]string{
		"alerts": m.Alerts, "title": m.Title, "description": m.Description, "status": m.Status,
		"fingerprint": m.Fingerprint, "labels_from": m.LabelsFrom, "severity": m.Severity,
		"service": m.Service, "starts_at": m.StartsAt, "url": m.URL,
	}
	for k, p := range m.Labels {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("labels: empty label name")
		}
		paths["labels."+k] = p
		if p == "" {
			return fmt.Errorf("labels.%s: empty path", k)
		}
	}
	for k, p := range m.Annotations {
		paths["annotations."+k] = p
		if p == "" {
			return fmt.Errorf("annotations.%s: empty path", k)
		}
	}
	for k, p := range paths {
		if p != strings.TrimSpace(p) {
			return fmt.Errorf("%s: path %q has surrounding spaces", k, p)
		}
	}
	return nil
}

func valueSet(vals, defaults []string) map[string]bool {
	if len(vals) == 0 {
		vals = defaults
	}
	set := make(map[string]bool, len(vals))
	for _, v := range vals {
		set[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return set
}

// Decode implements Decoder.
func (g *Generic) Decode(_ Header, body []byte) (Batch, error) {
	if err := validJSON(body); err != nil {
		return Batch{}, err
	}
	// Results point into this copy of body; every kept string is cloned so
	// the alerts do not pin it either.
	doc := gjson.Parse(string(body))
	if g.m.Alerts == "" {
		a, err := g.alert("", doc)
		if err != nil {
			return Batch{}, err
		}
		return Batch{Alerts: []alert.Alert{a}}, nil
	}
	arr := doc.Get(g.m.Alerts)
	if !arr.IsArray() {
		return Batch{}, badf("alerts (path %q): missing or not an array", g.m.Alerts)
	}
	if err := checkCount("alerts", int(arr.Get("#").Int())); err != nil {
		return Batch{}, err
	}
	items := arr.Array()
	out := make([]alert.Alert, 0, len(items))
	for i, it := range items {
		a, err := g.alert(index("alerts", i), it)
		if err != nil {
			return Batch{}, err
		}
		out = append(out, a)
	}
	return Batch{Alerts: out}, nil
}

// alert maps one element; where names it in errors.
func (g *Generic) alert(where string, item gjson.Result) (alert.Alert, error) {
	var a alert.Alert
	get := func(field, path string) (string, error) {
		if path == "" {
			return "", nil
		}
		v, err := scalar(item.Get(path))
		if err != nil {
			return "", badf("%s (path %q): %v", at(where, field), path, err)
		}
		return v, nil
	}
	var err error
	if a.Title, err = get("title", g.m.Title); err != nil {
		return a, err
	}
	if a.Title == "" {
		return a, badf("%s (path %q): missing or empty", at(where, "title"), g.m.Title)
	}
	a.Status = alert.StatusFiring
	if g.m.Status != "" {
		s, err := get("status", g.m.Status)
		if err != nil {
			return a, err
		}
		switch v := strings.ToLower(strings.TrimSpace(s)); {
		case g.firing[v]:
		case g.resolved[v]:
			a.Status = alert.StatusResolved
		default:
			return a, badf("%s (path %q): %q is neither a firing nor a resolved value", at(where, "status"), g.m.Status, s)
		}
	}
	for _, f := range []struct {
		field, path string
		dst         *string
	}{
		{"description", g.m.Description, &a.Description},
		{"fingerprint", g.m.Fingerprint, &a.Fingerprint},
		{"severity", g.m.Severity, &a.SeverityHint},
		{"service", g.m.Service, &a.Service},
		{"url", g.m.URL, &a.GeneratorURL},
	} {
		if *f.dst, err = get(f.field, f.path); err != nil {
			return a, err
		}
	}
	if a.StartsAt, err = startsAt(at(where, "starts_at"), g.m.StartsAt, item.Get(g.m.StartsAt)); err != nil {
		return a, err
	}
	labels, err := g.fields(where, "labels", g.m.LabelsFrom, g.m.Labels, item)
	if err != nil {
		return a, err
	}
	if a.Annotations, err = g.fields(where, "annotations", "", g.m.Annotations, item); err != nil {
		return a, err
	}
	if a.Fingerprint == "" && len(labels) == 0 {
		a.Fingerprint = alert.FingerprintLabels(map[string]string{"title": a.Title})
	}
	g.finish(&a, labels)
	return a, nil
}

// fields builds a label or annotation map: the scalar members of the
// object at fromPath, then each mapped path (which wins).
func (g *Generic) fields(where, kind, fromPath string, paths map[string]string, item gjson.Result) (map[string]string, error) {
	out := make(map[string]string, len(paths))
	if fromPath != "" {
		from := item.Get(fromPath)
		switch {
		case from.IsObject():
			from.ForEach(func(k, v gjson.Result) bool {
				if s, err := scalar(v); err == nil && s != "" {
					out[strings.Clone(k.String())] = s
				}
				return true
			})
		case from.Exists() && from.Type != gjson.Null:
			return nil, badf("%s_from (path %q): got %s, want object", at(where, kind), fromPath, kindOfResult(from))
		}
	}
	for name, path := range paths {
		v, err := scalar(item.Get(path))
		if err != nil {
			return nil, badf("%s (path %q): %v", at(where, kind+"."+name), path, err)
		}
		if v != "" {
			out[name] = v
		}
	}
	return out, nil
}

// scalar returns a copy of a string, number or boolean's text; "" for
// missing and null.
func scalar(r gjson.Result) (string, error) {
	switch r.Type {
	case gjson.Null:
		return "", nil
	case gjson.JSON:
		return "", fmt.Errorf("got %s, want a string", kindOfResult(r))
	}
	return strings.Clone(r.String()), nil
}

// startsAt reads an RFC 3339 string or Unix seconds (milliseconds when
// above 1e12).
func startsAt(where, path string, r gjson.Result) (time.Time, error) {
	if path == "" {
		return time.Time{}, nil
	}
	switch r.Type {
	case gjson.Null:
		return time.Time{}, nil
	case gjson.String:
		t, err := parseTime(where, r.Str)
		if err != nil {
			return time.Time{}, badf("%s (path %q): invalid time %q (want RFC 3339 or Unix seconds)", where, path, r.Str)
		}
		return t, nil
	case gjson.Number:
		f := r.Num
		if f <= 0 || math.IsInf(f, 0) || f > 1e15 {
			return time.Time{}, badf("%s (path %q): invalid Unix time %s", where, path, r.Raw)
		}
		if f > 1e12 {
			return time.UnixMilli(int64(f)).UTC(), nil
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, badf("%s (path %q): got %s, want RFC 3339 string or Unix seconds", where, path, kindOfResult(r))
}

// kindOfResult names a gjson value's JSON kind.
func kindOfResult(r gjson.Result) string {
	switch {
	case r.IsObject():
		return "object"
	case r.IsArray():
		return "array"
	case r.Type == gjson.True || r.Type == gjson.False:
		return "boolean"
	}
	return strings.ToLower(r.Type.String())
}
