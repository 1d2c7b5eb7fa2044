package statuspage

import (
	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// Limits of the Statuspage incident fields, in runes.
const (
	MaxName = 255
	MaxBody = 25000
)

// Incident statuses of a realtime Statuspage incident.
const (
	StatusInvestigating = "investigating"
	StatusIdentified    = "identified"
	StatusResolved      = "resolved"
)

// ComponentOperational is a component's status once the incident is
// resolved.
const ComponentOperational = "operational"

// AckBody is the update posted when the incident is acknowledged.
const AckBody = "Acknowledged — the team is working on it."

// Impact returns the impact_override for a severity: P0 critical,
// P1 major, P2 minor, P3 (and anything else) none.
func Impact(s alert.Severity) string {
	switch s {
	case alert.P0:
		return "critical"
	case alert.P1:
		return "major"
	case alert.P2:
		return "minor"
	default:
		return "none"
	}
}

// ComponentStatus returns the status affected components get for a
// severity: P0 major_outage, P1 partial_outage, P2 and P3 (and anything
// else) degraded_performance.
func ComponentStatus(s alert.Severity) string {
	switch s {
	case alert.P0:
		return "major_outage"
	case alert.P1:
		return "partial_outage"
	default:
		return "degraded_performance"
	}
}

type request struct {
	Incident any `json:"incident"`
}

type createIncident struct {
	Name                 string                    `json:"name"`
	Status               string                    `json:"status"`
	ImpactOverride       string                    `json:"impact_override"`
	Body                 string                    `json:"body"`
	ComponentIDs         []string                  `json:"component_ids,omitempty"`
	Components           map[string]string         `json:"components,omitempty"`
	DeliverNotifications bool                      `json:"deliver_notifications"`
	Metadata             map[string]metadataFields `json:"metadata"`
}

type metadataFields struct {
	Incident string `json:"incident"`
	DedupKey string `json:"dedup_key,omitempty"`
}

type updateIncident struct {
	Status     string            `json:"status"`
	Body       string            `json:"body"`
	Components map[string]string `json:"components,omitempty"`
}

// create builds the body that opens the incident.
func (n *Notifier) create(m *notify.Message) *request {
	name := m.Incident.Title
	if n.tmpl != nil && m.Summary != "" {
		name = m.Summary // the rendered title: the incident's title by default
	}
	if name == "" {
		name = m.Summary
	}
	return &request{Incident: &createIncident{
		Name:                 notify.Truncate(name, MaxName),
		Status:               StatusInvestigating,
		ImpactOverride:       Impact(m.Incident.Severity),
		Body:                 body(m),
		ComponentIDs:         n.components,
		Components:           n.componentMap(ComponentStatus(m.Incident.Severity)),
		DeliverNotifications: true,
		Metadata: map[string]metadataFields{
			"alertgate": {Incident: m.Incident.Key, DedupKey: m.DedupKey},
		},
	}}
}

// update builds the body that updates the incident for an info,
// acknowledge or resolve message.
func (n *Notifier) update(m *notify.Message) *request {
	u := &updateIncident{Status: infoStatus(m.Incident.Status), Body: body(m)}
	switch m.Kind {
	case notify.KindAcknowledge:
		u.Status, u.Body = StatusIdentified, AckBody
	case notify.KindResolve:
		u.Status = StatusResolved
		u.Components = n.componentMap(ComponentOperational)
	}
	return &request{Incident: u}
}

// infoStatus is the Statuspage status a status update keeps.
func infoStatus(s alert.IncidentStatus) string {
	switch s {
	case alert.IncidentTriggered:
		return StatusInvestigating
	case alert.IncidentResolved:
		return StatusResolved
	default:
		return StatusIdentified
	}
}

// componentMap gives every configured component status; nil without
// components.
func (n *Notifier) componentMap(status string) map[string]string {
	if len(n.components) == 0 {
		return nil
	}
	out := make(map[string]string, len(n.components))
	for _, id := range n.components {
		out[id] = status
	}
	return out
}

func body(m *notify.Message) string {
	if m.Text != "" {
		return notify.Truncate(m.Text, MaxBody)
	}
	return notify.Truncate(m.Summary, MaxBody)
}
