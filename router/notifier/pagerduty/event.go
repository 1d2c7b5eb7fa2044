package pagerduty

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// Events API v2 limits.
const (
	maxSummaryRunes = 1024
	maxDedupKey     = 255
	// maxEventBytes is the API's 512 KB payload limit; custom_details are
	// cut down to fit.
	maxEventBytes = 512000
	// maxDetailAlerts is how many alerts custom_details lists.
	maxDetailAlerts = 20
)

// Event actions.
const (
	ActionTrigger     = "trigger"
	ActionAcknowledge = "acknowledge"
	ActionResolve     = "resolve"
)

// Event is an Events API v2 request body.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload is a trigger event's alert.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails *CustomDetails `json:"custom_details,omitempty"`
}

// CustomDetails is what alertgate adds to a triggered alert.
type CustomDetails struct {
	Incident    string                `json:"incident"`
	Severity    string                `json:"severity"`
	Role        string                `json:"role,omitempty"`
	Step        string                `json:"step,omitempty"`
	Text        string                `json:"text,omitempty"`
	Labels      map[string]string     `json:"labels,omitempty"`
	Runbook     *notify.Runbook       `json:"runbook,omitempty"`
	AlertCount  int                   `json:"alert_count"`
	FiringCount int                   `json:"firing_count"`
	Alerts      []notify.AlertSummary `json:"alerts,omitempty"`
	// Truncated is set when details were dropped to fit the size limit.
	Truncated bool `json:"truncated,omitempty"`
}

// Link is a link shown on the PagerDuty alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Severity maps P0..P3 to critical, error, warning, info.
func Severity(s alert.Severity) string {
	switch s {
	case alert.P0:
		return "critical"
	case alert.P1:
		return "error"
	case alert.P2:
		return "warning"
	default:
		return "info"
	}
}

// DedupKey returns m.DedupKey (the incident key when empty); keys longer
// than the API's 255 characters become their SHA-256 in hex, which is
// just as stable across trigger, acknowledge and resolve.
func DedupKey(m *notify.Message) string {
	k := m.DedupKey
	if k == "" {
		k = m.Incident.Key
	}
	if len(k) > maxDedupKey {
		sum := sha256.Sum256([]byte(k))
		return hex.EncodeToString(sum[:])
	}
	return k
}

// action maps a message kind to an event action; "" means PagerDuty does
// not take this kind.
func action(k notify.MessageKind) string {
	switch k {
	case notify.KindPage:
		return ActionTrigger
	case notify.KindAcknowledge:
		return ActionAcknowledge
	case notify.KindResolve:
		return ActionResolve
	}
	return ""
}

// trigger builds a trigger event's payload, links and client fields.
func trigger(e *Event, m *notify.Message) {
	inc := &m.Incident
	source := inc.Service
	if source == "" {
		source = "alertgate"
	}
	at := inc.OpenedAt
	if at.IsZero() {
		at = m.At
	}
	p := &Payload{
		Summary:   notify.Truncate(summary(m), maxSummaryRunes),
		Source:    source,
		Severity:  Severity(inc.Severity),
		Component: inc.Service,
		Group:     inc.Category,
		Class:     m.Labels["alertname"],
		CustomDetails: &CustomDetails{
			Incident:    inc.Key,
			Severity:    inc.Severity.String() + " " + inc.Severity.Name(),
			Role:        m.Role,
			Step:        m.Step,
			Text:        m.Text,
			Labels:      m.Labels,
			Runbook:     m.Runbook,
			AlertCount:  inc.AlertCount,
			FiringCount: inc.FiringCount,
			Alerts:      m.Alerts[:min(len(m.Alerts), maxDetailAlerts)],
		},
	}
	if !at.IsZero() {
		p.Timestamp = at.UTC().Format(time.RFC3339Nano)
	}
	e.Payload = p
	e.Client = "alertgate"
	e.ClientURL = m.IncidentURL
	if m.AckURL != "" {
		e.Links = append(e.Links, Link{Href: m.AckURL, Text: "Acknowledge " + inc.Key + " in alertgate"})
	}
	if m.IncidentURL != "" {
		e.Links = append(e.Links, Link{Href: m.IncidentURL, Text: inc.Key + " in alertgate"})
	}
	if m.Runbook != nil && m.Runbook.URL != "" {
		title := m.Runbook.Title
		if title == "" {
			title = m.Runbook.Name
		}
		e.Links = append(e.Links, Link{Href: m.Runbook.URL, Text: "Runbook: " + title})
	}
	if len(m.Alerts) > 0 {
		// The first alert's own links: its runbook and where it comes from.
		a := m.Alerts[0]
		for _, l := range []Link{
			{Href: a.RunbookURL, Text: "Alert runbook"}, {Href: a.GeneratorURL, Text: "Source"},
			{Href: a.DashboardURL, Text: "Dashboard"}, {Href: a.PanelURL, Text: "Panel"}, {Href: a.SilenceURL, Text: "Silence"},
		} {
			if l.Href != "" {
				e.Links = append(e.Links, l)
			}
		}
	}
}

// shrink drops the bulky custom details, keeping the incident key.
func shrink(e *Event) {
	d := e.Payload.CustomDetails
	e.Payload.CustomDetails = &CustomDetails{
		Incident: d.Incident, Severity: d.Severity, Role: d.Role, Step: d.Step,
		AlertCount: d.AlertCount, FiringCount: d.FiringCount, Truncated: true,
	}
}

func summary(m *notify.Message) string {
	if m.Summary != "" {
		return m.Summary
	}
	return "[" + m.Incident.Severity.String() + "] " + m.Incident.Key + " " + m.Incident.Title
}
