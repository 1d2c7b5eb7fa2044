package router

import (
	"fmt"
	"time"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// Overrides gives temporary on-call overrides (the store).
type Overrides interface {
	ActiveOverride(role string, t time.Time) (store.Override, bool)
}

// OnCall is who a role pages at a moment.
type OnCall struct {
	Role    string   `json:"role"`
	Member  string   `json:"member,omitempty"`
	Targets []string `json:"targets"`
	// Source is override, rotation or role (the role's own targets).
	Source string `json:"source"`
	// Until is when this changes (shift end or override end); zero when
	// it does not.
	Until time.Time `json:"until,omitzero"`
	// Next is who is on call after Until (rotation only).
	Next *OnCall `json:"next,omitempty"`
}

// onCall resolves a role at t: an override in force wins, then the
// rotation, then the role's targets.
func (e *Engine) onCall(cfg *config.Config, role string, t time.Time) OnCall {
	if e.overrides != nil {
		if o, ok := e.overrides.ActiveOverride(role, t); ok {
			oc := OnCall{Role: role, Member: o.Member, Targets: o.Targets, Source: "override", Until: o.EndsAt}
			after := e.onCall(cfg, role, o.EndsAt)
			after.Next = nil
			oc.Next = &after
			return oc
		}
	}
	r := cfg.Roles[role]
	if rot := r.Rotation; rot != nil && len(rot.Members) > 0 {
		cur, until, next := rot.OnCall(t)
		return OnCall{Role: role, Member: cur.Name, Targets: cur.Targets, Source: "rotation", Until: until,
			Next: &OnCall{Role: role, Member: next.Name, Targets: next.Targets, Source: "rotation"}}
	}
	return OnCall{Role: role, Targets: r.Targets, Source: "role"}
}

// OnCallNow lists who every role pages now, and who is next.
func (e *Engine) OnCallNow() []OnCall {
	cfg := e.current().cfg
	roles := cfg.RoleNames()
	now := e.now()
	out := make([]OnCall, 0, len(roles))
	for _, name := range roles {
		out = append(out, e.onCall(cfg, name, now))
	}
	return out
}

// CheckOverride validates an override against the running config: the
// role must exist; without targets, the member must be in the role's
// rotation and their targets are used.
func (e *Engine) CheckOverride(o *store.Override) error {
	cfg := e.current().cfg
	r, ok := cfg.Roles[o.Role]
	if !ok {
		return fmt.Errorf("%w: role %q is not configured", store.ErrInvalid, o.Role)
	}
	if len(o.Targets) == 0 && r.Rotation != nil {
		for _, m := range r.Rotation.Members {
			if m.Name == o.Member {
				o.Targets = m.Targets
			}
		}
	}
	if len(o.Targets) == 0 {
		return fmt.Errorf("%w: give targets, or a member of the role's rotation", store.ErrInvalid)
	}
	targets := e.current().targets
	for _, t := range o.Targets {
		if _, ok := targets[t]; !ok {
			return fmt.Errorf("%w: target %q is not configured", store.ErrInvalid, t)
		}
	}
	return nil
}
