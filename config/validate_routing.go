package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // digests.time_zone must load in minimal containers too
)

// Target types, one per notifier.
var targetTypes = []string{"log", "webhook", "slack", "pagerduty"}

func (v *validator) targetList() {
	seen := map[string]int{}
	for i := range v.c.Targets {
		t := &v.c.Targets[i]
		where, key := item("targets", i, t.Name)
		if t.Name == "" {
			v.add(where, key+".name", "name is required")
		} else if j, dup := seen[t.Name]; dup {
			v.add(where, key+".name", "name is already used by targets[%d]", j)
		} else {
			seen[t.Name] = i
		}
		if !oneOf(t.Type, targetTypes...) {
			v.add(where, key+".type", "type %q is not one of %s", t.Type, strings.Join(targetTypes, ", "))
		}
		switch t.Type {
		case "webhook", "slack":
			if t.URL == "" {
				v.add(where, key+".url", "url (or url_file) is required for type %s", t.Type)
			}
		case "pagerduty":
			if t.RoutingKey == "" {
				v.add(where, key+".routing_key", "routing_key (or routing_key_file) is required")
			}
		}
		if t.URL != "" && !isHTTPURL(t.URL.Value()) {
			v.add(where, key+".url", "url must be an absolute http(s) URL")
		}
		for h := range t.Headers {
			if strings.TrimSpace(h) == "" {
				v.add(where, key+".headers", "header names must not be empty")
			}
		}
		if t.Fallback != "" {
			switch {
			case t.Fallback == t.Name:
				v.add(where, key+".fallback", "fallback names the target itself")
			case !v.targets[t.Fallback]:
				v.add(where, key+".fallback", "fallback target %q is not defined in targets", t.Fallback)
			}
		}
		v.delivery(where, key, t)
	}
	v.fallbackCycles()
}

// delivery checks a target's timeout, retry and breaker. Zero means the
// default.
func (v *validator) delivery(where, key string, t *Target) {
	if t.Timeout < 0 {
		v.add(where, key+".timeout", "timeout must not be negative")
	}
	if t.Retry.MaxAttempts < 0 {
		v.add(where, key+".retry.max_attempts", "retry.max_attempts must not be negative")
	}
	if t.Retry.Backoff < 0 || t.Retry.MaxBackoff < 0 {
		v.add(where, key+".retry", "retry backoffs must not be negative")
	}
	if t.Retry.Backoff > 0 && t.Retry.MaxBackoff > 0 && t.Retry.MaxBackoff < t.Retry.Backoff {
		v.add(where, key+".retry.max_backoff", "retry.max_backoff (%s) is less than retry.backoff (%s)", t.Retry.MaxBackoff, t.Retry.Backoff)
	}
	if t.Breaker.Failures < 0 {
		v.add(where, key+".breaker.failures", "breaker.failures must not be negative")
	}
	if t.Breaker.OpenFor < 0 {
		v.add(where, key+".breaker.open_for", "breaker.open_for must not be negative")
	}
}

// fallbackCycles reports each fallback cycle once, at its first target.
func (v *validator) fallbackCycles() {
	index := map[string]int{}
	for i, t := range v.c.Targets {
		if _, ok := index[t.Name]; !ok {
			index[t.Name] = i
		}
	}
	for start := range v.c.Targets {
		chain := []string{v.c.Targets[start].Name}
		cur := start
		for range v.c.Targets {
			next, ok := index[v.c.Targets[cur].Fallback]
			if !ok || next == cur {
				break // no fallback, unknown, or itself: reported elsewhere
			}
			if next == start {
				if minIndex(index, chain) == start {
					where, key := item("targets", start, chain[0])
					v.add(where, key+".fallback", "fallback cycle: %s", strings.Join(append(chain, chain[0]), " -> "))
				}
				break
			}
			chain = append(chain, v.c.Targets[next].Name)
			cur = next
		}
	}
}

func minIndex(index map[string]int, names []string) int {
	m := index[names[0]]
	for _, n := range names[1:] {
		m = min(m, index[n])
	}
	return m
}

func (v *validator) roles() {
	names := make([]string, 0, len(v.c.Roles))
	for n := range v.c.Roles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := v.c.Roles[n]
		where, key := "roles."+n, "roles."+n
		if strings.TrimSpace(n) == "" {
			v.add("roles", "roles", "a role has an empty name")
		}
		if len(r.Targets) == 0 {
			v.add(where, key+".targets", "targets is empty: the role would never be paged")
		}
		v.targetRefs(where, key+".targets", r.Targets)
	}
}

func (v *validator) escalation() {
	seen := map[string]int{}
	for i := range v.c.Escalation.Matrix {
		r := &v.c.Escalation.Matrix[i]
		where, key := item("escalation.matrix", i, r.Role)
		switch _, ok := v.c.Roles[r.Role]; {
		case r.Role == "":
			v.add(where, key+".role", "role is required")
		case !ok:
			v.add(where, key+".role", "role %q is not defined in roles", r.Role)
		}
		if j, dup := seen[r.Role]; dup && r.Role != "" {
			v.add(where, key+".role", "role already has a row: escalation.matrix[%d]", j)
		} else {
			seen[r.Role] = i
		}
		if !oneOf(r.StopOn, StopOnAcknowledged, StopOnResolved) {
			v.add(where, key+".stop_on", "stop_on %q is not one of %s, %s", r.StopOn, StopOnAcknowledged, StopOnResolved)
		}
		if p := r.Repeat; p != nil {
			if p.Every <= 0 {
				v.add(where, key+".repeat.every", "repeat.every must be positive")
			}
			if p.Limit < 0 {
				v.add(where, key+".repeat.limit", "repeat.limit must not be negative")
			}
		}
	}
	d := &v.c.Escalation.Digests
	const where = "escalation.digests"
	if _, err := time.LoadLocation(d.TimeZone); err != nil || d.TimeZone == "" {
		v.add(where, where+".time_zone", "time_zone %q is not an IANA time zone (e.g. UTC, Europe/Berlin)", d.TimeZone)
	}
	if _, _, err := ParseClock(d.At); err != nil {
		v.add(where, where+".at", "%v", err)
	}
	if _, err := ParseWeekday(d.Weekday); err != nil {
		v.add(where, where+".weekday", "%v", err)
	}
	if d.MonthDay < 1 || d.MonthDay > 28 {
		v.add(where, where+".month_day", "month_day %d is not within 1..28", d.MonthDay)
	}
}

func (v *validator) communication() {
	for i := range v.c.Communication.Channels {
		ch := &v.c.Communication.Channels[i]
		where, key := item("communication.channels", i, ch.Name)
		if ch.Name == "" {
			v.add(where, key+".name", "name is required")
		}
		if len(ch.Severities) == 0 {
			v.add(where, key+".severities", "severities is empty: the channel would never be told")
		}
		v.severityList(where, key+".severities", ch.Severities)
		if len(ch.Targets) == 0 {
			v.add(where, key+".targets", "targets is empty: the channel would never be told")
		}
		v.targetRefs(where, key+".targets", ch.Targets)
	}
	sp := &v.c.Communication.StatusPage
	const where = "communication.status_page"
	if sp.URL != "" && !isHTTPURL(sp.URL) {
		v.add(where, where+".url", "url must be an absolute http(s) URL")
	}
	v.severityList(where, where+".severities", sp.Severities)
	v.targetRefs(where, where+".targets", sp.Targets)
	if tk := v.c.Communication.Ticket; tk != nil {
		const where = "communication.ticket"
		if tk.Target == "" {
			v.add(where, where+".target", "target is required")
		} else {
			v.targetRefs(where, where+".target", []string{tk.Target})
		}
		v.severityList(where, where+".severities", tk.Severities)
	}
}

// ParseClock parses a digests.at time of day, "HH:MM" in 24-hour form.
func ParseClock(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	if ok && len(h) == 2 && len(m) == 2 && isDigits(h+m) {
		hour, errH := strconv.Atoi(h)
		minute, errM := strconv.Atoi(m)
		if errH == nil && errM == nil && hour >= 0 && hour < 24 && minute >= 0 && minute < 60 {
			return hour, minute, nil
		}
	}
	return 0, 0, fmt.Errorf("time of day %q is not HH:MM (e.g. 09:00)", s)
}

// ParseWeekday parses a day name such as "monday" (any case).
func ParseWeekday(s string) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("weekday %q is not a day name (e.g. monday)", s)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
