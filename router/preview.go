package router

import (
	"fmt"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Preview returns the messages the engine would send about one incident,
// one of each kind, built as the engine builds them, for `alertgate
// template render`. inc is the incident as it opens (severity, title,
// service, category, runbook decided; OpenedAt set); alerts are its
// alerts. The messages follow its life: the On-Call page and the
// announcement at the opening, the response SLA breach, the reminder, a
// status update, the acknowledgement by "alice" 10 minutes in, a
// leadership page of the acknowledged incident at its mark, the
// resolution (after an hour, or after that page) and the resolution
// summary.
func Preview(cfg *config.Config, inc alert.Incident, alerts []alert.Alert) []*notify.Message {
	opened := inc.OpenedAt
	lvl := cfg.Severities.Level(inc.Severity)
	inc.Status = alert.IncidentTriggered
	inc.AlertCount, inc.FiringCount = len(alerts), 0
	for _, a := range alerts {
		if a.Status == alert.StatusFiring {
			inc.FiringCount++
		}
	}
	if inc.AckDue.IsZero() {
		inc.AckDue = opened.Add(lvl.Response.D())
	}
	if inc.ResolveDue.IsZero() {
		inc.ResolveDue = opened.Add(lvl.Resolution.D())
	}
	var out []*notify.Message
	add := func(at time.Time, kind notify.MessageKind, inc alert.Incident, p stepPayload) {
		e := &Engine{now: func() time.Time { return at }}
		key := fmt.Sprintf("%s/preview/%s", inc.Key, stepName(&p))
		out = append(out, e.message(cfg, kind, &inc, alerts, &p, key))
	}
	first, leader := "", ""
	var leaderAt time.Duration
	for _, row := range cfg.Escalation.Matrix {
		cell := row.Cell(inc.Severity)
		if !cell.Timed() {
			continue
		}
		if first == "" {
			first = row.Role
		}
		if row.StopOn == string(alert.IncidentResolved) && cell.Delay > 10*time.Minute && leader == "" {
			leader, leaderAt = row.Role, cell.Delay
		}
	}
	if first != "" {
		add(opened, notify.KindPage, inc, stepPayload{Type: stepPage, Role: first})
	}
	for _, ch := range cfg.Communication.Channels {
		if hasSeverity(ch.Severities, inc.Severity) {
			add(opened, notify.KindInfo, inc, stepPayload{Type: stepAnnounce, Channel: ch.Name})
			break
		}
	}
	add(inc.AckDue, notify.KindInfo, inc, stepPayload{Type: stepSLA, SLA: slaResponse})
	if every := lvl.Updates.D(); every > 0 {
		add(opened.Add(every), notify.KindInfo, inc, stepPayload{Type: stepRemind})
	}
	add(opened.Add(5*time.Minute), notify.KindInfo, inc, stepPayload{Type: stepUpdate, Text: "Rolled back the last release; watching the error rate."})

	acked := inc
	acked.Status, acked.AcknowledgedAt, acked.AcknowledgedBy = alert.IncidentAcknowledged, opened.Add(10*time.Minute), "alice"
	add(acked.AcknowledgedAt, notify.KindAcknowledge, acked, stepPayload{Type: stepAck})
	if leader != "" {
		add(opened.Add(leaderAt), notify.KindPage, acked, stepPayload{Type: stepPage, Role: leader})
	}
	resolved := acked
	// Resolved after an hour, or after the leadership page.
	resolved.Status, resolved.ResolvedAt, resolved.ResolvedBy, resolved.FiringCount = alert.IncidentResolved, opened.Add(max(time.Hour, leaderAt+10*time.Minute)), "alice", 0
	add(resolved.ResolvedAt, notify.KindResolve, resolved, stepPayload{Type: stepResolve})
	add(resolved.ResolvedAt, notify.KindInfo, resolved, stepPayload{Type: stepPostmortem})
	return out
}
