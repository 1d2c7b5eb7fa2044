package router

import (
	"sort"
	"time"
)

// Shift is who a role pages from Start to End.
type Shift struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	OnCall
}

// maxShifts bounds a schedule (hourly shifts for two weeks fit).
const maxShifts = 400

// Schedule lists who each role pages from `from` to `to`, shift by shift
// (rotation hand-offs and overrides), with the running config; roles
// without a rotation or override have one shift. Roles are sorted.
func (e *Engine) Schedule(from, to time.Time) map[string][]Shift {
	cfg := e.current().cfg
	roles := make([]string, 0, len(cfg.Roles))
	for name := range cfg.Roles {
		roles = append(roles, name)
	}
	sort.Strings(roles)
	out := make(map[string][]Shift, len(roles))
	for _, role := range roles {
		t := from
		for len(out[role]) < maxShifts && t.Before(to) {
			oc := e.onCall(cfg, role, t)
			oc.Next = nil
			end := oc.Until
			if end.IsZero() || !end.After(t) || end.After(to) {
				end = to
			}
			out[role] = append(out[role], Shift{Start: t, End: end, OnCall: oc})
			t = end
		}
	}
	return out
}

// TargetState is a target's breaker and rate-limit state now.
type TargetState struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Breaker is closed, half-open or open.
	Breaker string `json:"breaker"`
	// Requests, Successes and Failures count the breaker's current window
	// (since it last changed state or cleared its counts).
	Requests  uint32 `json:"requests"`
	Successes uint32 `json:"successes"`
	Failures  uint32 `json:"failures"`
	// RecentOK and RecentFailed count the sends that reached the target
	// in the last RecentWindow (15 minutes): delivered, and failed (any
	// error, a 4xx too; not the waits of an open breaker or a 429).
	RecentOK     uint32 `json:"recent_ok"`
	RecentFailed uint32 `json:"recent_failed"`
	// RateLimit is the configured sends per second (0: none), Tokens how
	// many may go at once now.
	RateLimit float64 `json:"rate_limit,omitempty"`
	Tokens    float64 `json:"tokens,omitempty"`
	Fallback  string  `json:"fallback,omitempty"`
}

// TargetStates lists every target's state, by name.
func (e *Engine) TargetStates() []TargetState {
	r := e.current()
	out := make([]TargetState, 0, len(r.targets))
	for _, t := range r.targets {
		ts := TargetState{Name: t.name, Type: t.typ, Breaker: "closed", Fallback: t.fallback}
		if t.cb != nil {
			c := t.cb.Counts()
			ts.Breaker, ts.Requests, ts.Successes, ts.Failures = t.cb.State().String(), c.Requests, c.TotalSuccesses, c.TotalFailures
		}
		if t.st != nil {
			ts.RecentOK, ts.RecentFailed = t.st.recentCounts(e.now())
		}
		if t.lim != nil {
			ts.RateLimit, ts.Tokens = float64(t.lim.Limit()), t.lim.TokensAt(e.now())
		}
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
