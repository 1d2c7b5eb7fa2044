package router

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/store"
)

// severityChannels returns the internal channels' targets for sev and,
// with statusPage, the status page's.
func (r *routing) severityChannels(sev alert.Severity, statusPage bool) []string {
	var out []string
	for _, ch := range r.cfg.Communication.Channels {
		if hasSeverity(ch.Severities, sev) {
			out = append(out, ch.Targets...)
		}
	}
	if sp := r.cfg.Communication.StatusPage; statusPage && hasSeverity(sp.Severities, sev) {
		out = append(out, sp.Targets...)
	}
	return out
}

func slaDetail(cfg *config.Config, inc *alert.Incident, kind string) string {
	lvl := cfg.Severities.Level(inc.Severity)
	if kind == slaResponse {
		return fmt.Sprintf("response SLA breached: %s (%s) not acknowledged within %s", inc.Severity, lvl.Name, lvl.Response)
	}
	return fmt.Sprintf("resolution SLA breached: %s (%s) not resolved within %s", inc.Severity, lvl.Name, lvl.Resolution)
}

// remind runs an update-reminder step: when no status update was posted
// within the severity's cadence, the internal channel and the on-call
// responder are reminded; either way the next check is planned one cadence
// after the last update (or this reminder).
func (e *Engine) remind(t *store.Tx, r *routing, j *store.Job, inc *alert.Incident, alerts []alert.Alert, p *stepPayload) (store.StepOutcome, error) {
	every := r.cfg.Severities.Level(inc.Severity).Updates.D()
	if every <= 0 {
		return store.StepOutcome{Cancelled: true}, nil
	}
	now := e.now()
	last, err := t.LastEventAt(inc.ID, alert.EventUpdate)
	if err != nil {
		return store.StepOutcome{}, err
	}
	var out store.StepOutcome
	next := last.Add(every)
	if last.IsZero() || !now.Before(next) {
		targets := dedupe(append(r.severityChannels(inc.Severity, false), r.cfg.Roles[config.RoleOnCall].Targets...))
		since := "since the incident opened"
		if !last.IsZero() {
			since = "since " + last.UTC().Format(time.RFC3339)
		}
		for _, tn := range targets {
			m := e.message(r.cfg, notify.KindInfo, inc, alerts, p, j.Key+"/"+tn)
			b, err := json.Marshal(m)
			if err != nil {
				return store.StepOutcome{}, fmt.Errorf("encode message: %w", err)
			}
			out.Jobs = append(out.Jobs, store.JobSpec{Key: j.Key + "/" + tn, Kind: store.KindDelivery, DueAt: now,
				StopOn: alert.IncidentResolved, Target: tn, Action: string(notify.KindInfo), Payload: b, Priority: int(inc.Severity)})
		}
		detail := fmt.Sprintf("update reminder: no status update %s (cadence %s)", since, config.Duration(every))
		if len(targets) > 0 {
			detail += " via " + strings.Join(targets, ", ")
		}
		if err := t.AppendEvent(inc.ID, alert.EventNotified, "router", detail); err != nil {
			return store.StepOutcome{}, err
		}
		t.OnCommit(func() {
			e.m.stepsRun.WithLabelValues(stepRemind, "sent").Inc()
			e.log.Info("update reminder", zap.String("incident", inc.Key), zap.Strings("targets", targets))
		})
		next = now.Add(every)
	} else {
		t.OnCommit(func() { e.m.stepsRun.WithLabelValues(stepRemind, "skipped").Inc() })
	}
	np := stepPayload{Type: stepRemind, Seq: p.Seq + 1, Tag: p.Tag}
	out.Jobs = append(out.Jobs, stepJob(fmt.Sprintf("%sremind#%d", keyPrefix(inc, p.Tag), np.Seq), next, alert.IncidentResolved, np))
	return out, nil
}

// postmortemJobs posts the resolution summary of a resolved P0/P1 incident
// to its internal channels: duration, who resolved it, the SLA verdicts,
// the alert count and a link to the post-mortem draft (which stays at its
// endpoint; the channel is not flooded with it).
func (e *Engine) postmortemJobs(r *routing, j *store.Job, inc *alert.Incident) ([]store.JobSpec, error) {
	var out []store.JobSpec
	for _, tn := range dedupe(r.severityChannels(inc.Severity, false)) {
		key := j.Key + "/postmortem/" + tn
		m := e.message(r.cfg, notify.KindInfo, inc, nil, &stepPayload{Type: stepPostmortem}, key)
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode message: %w", err)
		}
		out = append(out, store.JobSpec{Key: key, Kind: store.KindDelivery, DueAt: e.now(), Target: tn, Action: string(notify.KindInfo), Payload: b,
			Priority: int(inc.Severity)})
	}
	return out, nil
}

// flapEnd ends the flapping of an incident that stayed resolved for
// dedup.flapping.window since the resolution the step belongs to: the
// mark is cleared and, for P0/P1, the resolution summary held back while
// it flapped goes to the channel. A reopen since makes the step moot.
func (e *Engine) flapEnd(t *store.Tx, r *routing, j *store.Job, inc *alert.Incident, p *stepPayload) (store.StepOutcome, error) {
	if !inc.Flapping || inc.Status != alert.IncidentResolved || inc.ResolvedAt.UnixMilli() != p.Resolved {
		return store.StepOutcome{Cancelled: true}, nil
	}
	if err := t.EndFlapping(inc.ID); err != nil {
		return store.StepOutcome{}, err
	}
	inc.Flapping = false
	var out store.StepOutcome
	if inc.Severity <= alert.P1 {
		jobs, err := e.postmortemJobs(r, j, inc)
		if err != nil {
			return store.StepOutcome{}, err
		}
		out.Jobs = jobs
	}
	detail := fmt.Sprintf("no longer flapping: resolved for %s", r.cfg.Dedup.Flapping.Window)
	if len(out.Jobs) > 0 {
		detail += "; resolution summary sent"
	}
	t.OnCommit(func() { e.m.stepsRun.WithLabelValues(p.Type, "sent").Inc() })
	return out, t.AppendEvent(inc.ID, alert.EventFlapEnded, "router", detail)
}
