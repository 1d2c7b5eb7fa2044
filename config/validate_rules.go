package config

import (
	"fmt"
	"strings"
	"time"
)

// suppression checks rule keywords, silences, maintenance windows and
// inhibit rules. Rule expressions (when) are compiled by the rules engine,
// which names the rule in its error; config only checks what it can
// without it.
func (v *validator) suppression() {
	for i := range v.c.Rules {
		r := &v.c.Rules[i]
		where, key := item("rules", i, r.Name)
		for j, k := range r.Keywords {
			if strings.TrimSpace(k) == "" {
				v.add(where, fmt.Sprintf("%s.keywords[%d]", key, j), "keywords[%d] is empty", j)
			}
		}
	}
	v.silences()
	v.maintenance()
	v.inhibit()
}

// matchers checks a list of Alertmanager matchers; field names the list
// ("matchers", "source_matchers") in messages.
func (v *validator) matchers(where, key, field string, ms []string, required bool) {
	if required && len(ms) == 0 {
		v.add(where, key+"."+field, "%s must list at least one matcher", field)
	}
	for j, m := range ms {
		if err := checkMatcher(m); err != nil {
			v.add(where, fmt.Sprintf("%s.%s[%d]", key, field, j), "%s[%d] %q: %v", field, j, m, err)
		}
	}
}

func (v *validator) silences() {
	seen := map[string]int{}
	for i := range v.c.Silences {
		s := &v.c.Silences[i]
		where, key := item("silences", i, s.ID)
		if j, dup := seen[s.ID]; dup && s.ID != "" {
			v.add(where, key+".id", "id is already used by silences[%d]", j)
		} else {
			seen[s.ID] = i
		}
		v.matchers(where, key, "matchers", s.Matchers, true)
		var starts, ends time.Time
		var err error
		if s.StartsAt != "" {
			if starts, err = time.Parse(time.RFC3339, s.StartsAt); err != nil {
				v.add(where, key+".starts_at", "starts_at %q is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)", s.StartsAt)
			}
		}
		switch {
		case s.EndsAt == "":
			v.add(where, key+".ends_at", "ends_at is required")
		default:
			if ends, err = time.Parse(time.RFC3339, s.EndsAt); err != nil {
				v.add(where, key+".ends_at", "ends_at %q is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)", s.EndsAt)
			} else if !starts.IsZero() && !ends.After(starts) {
				v.add(where, key+".ends_at", "ends_at must be after starts_at")
			}
		}
	}
}

func (v *validator) maintenance() {
	seen := map[string]int{}
	for i := range v.c.Maintenance {
		m := &v.c.Maintenance[i]
		where, key := item("maintenance", i, m.Name)
		switch j, dup := seen[m.Name]; {
		case m.Name == "":
			v.add(where, key+".name", "name is required")
		case dup:
			v.add(where, key+".name", "name is already used by maintenance[%d]", j)
		default:
			seen[m.Name] = i
		}
		v.matchers(where, key, "matchers", m.Matchers, true)
		for j, d := range m.Weekdays {
			if _, err := ParseWeekday(d); err != nil {
				v.add(where, fmt.Sprintf("%s.weekdays[%d]", key, j), "%v", err)
			}
		}
		sh, sm, errS := ParseClock(m.Start)
		if errS != nil {
			v.add(where, key+".start", "start: %v", errS)
		}
		eh, em, errE := ParseClock(m.End)
		if errE != nil {
			v.add(where, key+".end", "end: %v", errE)
		}
		if errS == nil && errE == nil && sh == eh && sm == em {
			v.add(where, key+".end", "end equals start (use 00:00 to 23:59 for a whole day)")
		}
		if _, err := time.LoadLocation(m.TimeZone); err != nil || m.TimeZone == "" {
			v.add(where, key+".time_zone", "time_zone %q is not an IANA time zone (e.g. UTC, Europe/Berlin)", m.TimeZone)
		}
	}
}

func (v *validator) inhibit() {
	for i := range v.c.Inhibit {
		r := &v.c.Inhibit[i]
		where, key := item("inhibit", i, r.Name)
		v.matchers(where, key, "source_matchers", r.SourceMatchers, true)
		v.matchers(where, key, "target_matchers", r.TargetMatchers, true)
		for j, l := range r.Equal {
			if strings.TrimSpace(l) == "" {
				v.add(where, fmt.Sprintf("%s.equal[%d]", key, j), "equal[%d] is empty", j)
			}
		}
	}
}
