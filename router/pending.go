package router

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/store"
)

// PendingStep is work still to happen for an incident: an escalation
// step (page a role, tell a channel, check an SLA, remind) or a delivery
// waiting for its (next) attempt. GET /api/v1/incidents/{id}/plan lists
// them; the console shows them as "what will happen next".
type PendingStep struct {
	Key string `json:"key"`
	// Type is page, announce, sla, remind, ticket, ack, resolve, update
	// (steps) or delivery.
	Type string `json:"type"`
	// State is pending, running, or held (kept back while the incident's
	// alerts are silenced or in a maintenance window; due once that ends).
	State string    `json:"state"`
	DueAt time.Time `json:"due_at"`
	// Role is the role a page step pages, Member who is on call for it
	// at DueAt (rotation or override), Targets where it goes.
	Role    string   `json:"role,omitempty"`
	Member  string   `json:"member,omitempty"`
	Targets []string `json:"targets,omitempty"`
	Channel string   `json:"channel,omitempty"`
	SLA     string   `json:"sla,omitempty"`
	// Action of a delivery: page, acknowledge, resolve, info.
	Action   string `json:"action,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	// StopsOn is the status that cancels the step ("acknowledged" or
	// "resolved"); empty when nothing stops it.
	StopsOn string `json:"stops_on,omitempty"`
	// Stops says the same in words.
	Stops string `json:"stops"`
}

// Pending turns an incident's jobs (store.Jobs) into the steps still to
// happen, due first, resolving page steps' roles at their due time with
// the running config and overrides.
func (e *Engine) Pending(jobs []*store.Job) []PendingStep {
	r := e.current()
	out := []PendingStep{}
	for _, j := range jobs {
		switch j.State {
		case store.JobPending, store.JobRunning, store.JobHeld:
		default:
			continue
		}
		ps := PendingStep{Key: j.Key, Type: j.Kind, State: j.State, DueAt: j.DueAt, StopsOn: string(j.StopOn), Attempts: j.Attempts}
		switch ps.StopsOn {
		case "":
			ps.Stops = "runs regardless of acknowledgement or resolution"
		default:
			ps.Stops = "cancelled once the incident is " + ps.StopsOn
		}
		if j.Kind == store.KindDelivery {
			ps.Targets, ps.Action = []string{j.Target}, j.Action
			out = append(out, ps)
			continue
		}
		out = append(out, e.pendingStep(r, ps, j.Payload))
		// The steps after it in the incident's chain are not rows yet;
		// they happen as planned unless an acknowledgement or resolution
		// stops them.
		if j.State != store.JobRunning {
			for _, l := range j.Later {
				lp := PendingStep{Key: l.Key, Type: store.KindStep, State: store.JobPending, DueAt: l.DueAt, StopsOn: string(l.StopOn)}
				lp.Stops = "cancelled once the incident is " + lp.StopsOn
				out = append(out, e.pendingStep(r, lp, l.Payload))
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].DueAt.Before(out[b].DueAt) })
	return out
}

// pendingStep fills in what a step's payload says: the role it pages
// (and who is on call for it at its due time), the channel, the SLA.
func (e *Engine) pendingStep(r *routing, ps PendingStep, payload []byte) PendingStep {
	var p stepPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		ps.Type = "unknown"
		return ps
	}
	ps.Type = p.Type
	switch p.Type {
	case stepPage:
		oc := e.onCall(r.cfg, p.Role, ps.DueAt)
		ps.Role, ps.Member, ps.Targets = p.Role, oc.Member, oc.Targets
	case stepAnnounce:
		ps.Channel, ps.Targets = p.Channel, r.channelTargets(p.Channel)
	case stepSLA:
		ps.SLA = p.SLA
	}
	return ps
}

// String is a one-line description: "page oncall (alice) → pd-primary".
func (p PendingStep) String() string {
	switch p.Type {
	case stepPage:
		who := p.Role
		if p.Member != "" {
			who += " (" + p.Member + ")"
		}
		return fmt.Sprintf("page %s → %s", who, strings.Join(p.Targets, ", "))
	case stepAnnounce:
		return fmt.Sprintf("announce to %s → %s", p.Channel, strings.Join(p.Targets, ", "))
	case stepSLA:
		return p.SLA + " SLA check"
	case stepRemind:
		return "status-update reminder"
	case store.KindDelivery:
		return fmt.Sprintf("%s delivery to %s (attempt %d)", p.Action, strings.Join(p.Targets, ", "), p.Attempts+1)
	}
	return p.Type
}

// PhaseNames are the post-mortem's timeline phases, in order.
var PhaseNames = phaseNames[:]

// Phase names the post-mortem phase (Detection, Response, Mitigation,
// Resolution) of a timeline event of inc, as the draft groups it.
func Phase(ev alert.Event, inc *alert.Incident) string { return phaseNames[phaseOf(ev, inc)] }
