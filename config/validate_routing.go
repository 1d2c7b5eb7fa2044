package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // digests.time_zone must load in minimal containers too
)

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

// MaxTargetTimeout bounds a target's timeout: half the lease a claimed
// delivery holds (router's default lease, 2m).
const MaxTargetTimeout = time.Minute

// MaxTargetConcurrency bounds a target's concurrency.
const MaxTargetConcurrency = 256

// delivery checks a target's timeout, concurrency, retry and breaker. Zero
// means the default.
func (v *validator) delivery(where, key string, t *Target) {

	if t.Timeout < 0 {
		v.add(where, key+".timeout", "timeout must not be negative")
	}
	if t.Timeout.D() > MaxTargetTimeout {
		v.add(where, key+".timeout", "timeout %s is longer than %s: a claimed delivery is leased for %s, and an attempt outliving its lease may be sent again by another replica",
			t.Timeout, Duration(MaxTargetTimeout), Duration(2*MaxTargetTimeout))
	}
	if t.Concurrency < 0 || t.Concurrency > MaxTargetConcurrency {
		v.add(where, key+".concurrency", "concurrency %d is not between 1 and %d", t.Concurrency, MaxTargetConcurrency)
	}
	if t.Retry.MaxAge < 0 {
		v.add(where, key+".retry.max_age", "retry.max_age must not be negative")
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
		if len(r.Targets) == 0 && r.Rotation == nil {
			v.add(where, key+".targets", "targets is empty: the role would never be paged")
		}
		v.targetRefs(where, key+".targets", r.Targets)
		if rot := r.Rotation; rot != nil {
			if _, err := rot.Location(); err != nil {
				v.add(where, key+".rotation.time_zone", "%v", err)
			}
			if _, _, err := ParseClock(orDefault(rot.Handoff, "09:00")); err != nil {
				v.add(where, key+".rotation.handoff", "%v", err)
			}
			if rot.Shift.D() < time.Hour {
				v.add(where, key+".rotation.shift", "shift must be at least 1h")
			}
			if _, err := time.Parse(time.DateOnly, rot.Start); err != nil {
				v.add(where, key+".rotation.start", "start must be a date like 2026-11-30")
			}
			if len(rot.Members) == 0 {
				v.add(where, key+".rotation.members", "members is empty")
			}
			for i, m := range rot.Members {
				mk := fmt.Sprintf("%s.rotation.members[%d]", key, i)
				if m.Name == "" {
					v.add(where, mk+".name", "name is required")
				}
				if len(m.Targets) == 0 {
					v.add(where, mk+".targets", "targets is empty: %s would never be paged", m.Name)
				}
				v.targetRefs(where, mk+".targets", m.Targets)
			}
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Location is the rotation's time zone (UTC when unset).
func (r *Rotation) Location() (*time.Location, error) {
	if r.TimeZone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(r.TimeZone)
}

// OnCall returns the member on call at t, when the shift ends (the next
// handoff) and who is on call after it. Shifts that are whole days are
// counted in calendar days in the rotation's zone, so the handoff stays at
// its local time across daylight-saving changes.
func (r *Rotation) OnCall(t time.Time) (cur Member, until time.Time, next Member) {
	loc, err := r.Location()
	if err != nil || len(r.Members) == 0 {
		return Member{}, time.Time{}, Member{}
	}
	h, m, _ := ParseClock(orDefault(r.Handoff, "09:00"))
	day, _ := time.ParseInLocation(time.DateOnly, r.Start, loc)
	y, mo, d := day.Date()
	start := time.Date(y, mo, d, h, m, 0, 0, loc)
	shift := r.Shift.D()
	var n int
	if days := int(shift / (24 * time.Hour)); shift%(24*time.Hour) == 0 && days > 0 {
		lt := t.In(loc)
		ly, lmo, ld := lt.Date()
		elapsed := int(time.Date(ly, lmo, ld, 0, 0, 0, 0, time.UTC).Sub(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)).Hours() / 24)
		if lt.Before(time.Date(ly, lmo, ld, h, m, 0, 0, loc)) {
			elapsed-- // before today's handoff: yesterday's shift
		}
		n = floorDiv(elapsed, days)
		until = time.Date(y, mo, d+(n+1)*days, h, m, 0, 0, loc)
	} else {
		n = floorDiv(int(t.Sub(start)), int(shift))
		until = start.Add(time.Duration(n+1) * shift)
	}
	k := len(r.Members)
	return r.Members[((n%k)+k)%k], until, r.Members[(((n+1)%k)+k)%k]
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
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
			v.add(where, key+".role", "role %q is not defined in roles (add e.g. %s: {targets: [log]} under roles, or drop its row from escalation.matrix)", r.Role, r.Role)
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
			v.severityList(where, key+".repeat.severities", p.Severities)
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
