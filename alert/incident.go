package alert

import (
	"strconv"
	"strings"
	"time"
)

// IncidentStatus is where an incident is in its lifecycle.
type IncidentStatus string

// Incident statuses: triggered → acknowledged → resolved (and back to
// triggered when a resolved incident reopens).
const (
	IncidentTriggered    IncidentStatus = "triggered"
	IncidentAcknowledged IncidentStatus = "acknowledged"
	IncidentResolved     IncidentStatus = "resolved"
)

// Stops reports whether an incident in status s no longer needs a step
// that stops on stop (a step's stop condition: acknowledged stops it once
// acknowledged or resolved; resolved once resolved; "" never).
func (s IncidentStatus) Stops(stop IncidentStatus) bool {
	switch stop {
	case IncidentAcknowledged:
		return s == IncidentAcknowledged || s == IncidentResolved
	case IncidentResolved:
		return s == IncidentResolved
	}
	return false
}

// Valid reports whether s is a known incident status.
func (s IncidentStatus) Valid() bool {
	return s == IncidentTriggered || s == IncidentAcknowledged || s == IncidentResolved
}

// Incident groups the alerts that share a group key while it is open.
type Incident struct {
	ID         int64          `json:"-"`
	Key        string         `json:"id"` // "INC-42"
	Severity   Severity       `json:"severity"`
	Status     IncidentStatus `json:"status"`
	Title      string         `json:"title"`
	Service    string         `json:"service,omitempty"`
	Category   string         `json:"category,omitempty"`
	Runbook    string         `json:"runbook,omitempty"`
	GroupKey   string         `json:"group_key"`
	Source     string         `json:"source"`
	AlertCount int            `json:"alert_count"`
	// FiringCount is how many of its alerts still fire.
	FiringCount int `json:"firing_count"`
	// Flaps counts how often the incident reopened after resolving.
	Flaps int `json:"flaps"`
	// Flapping is set when it reopened dedup.flapping.reopens times within
	// the flapping window: its reopens then tell the channel and page
	// nobody, until it has stayed resolved for the window.
	Flapping       bool      `json:"flapping,omitempty"`
	OpenedAt       time.Time `json:"opened_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	ResolvedBy     string    `json:"resolved_by,omitempty"`
	// AckDue and ResolveDue are the response and resolution deadlines of
	// the incident's severity, counted from OpenedAt.
	AckDue     time.Time `json:"ack_due"`
	ResolveDue time.Time `json:"resolve_due"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Ticket is the reference a ticket target answered with, if any.
	Ticket string `json:"ticket,omitempty"`
}

// Open reports whether the incident is not resolved.
func (i *Incident) Open() bool { return i.Status != IncidentResolved }

// IncidentKey formats an incident number as "INC-n".
func IncidentKey(id int64) string { return "INC-" + strconv.FormatInt(id, 10) }

// ParseIncidentKey accepts "INC-n" (any case) or a bare number.
func ParseIncidentKey(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 4 && strings.EqualFold(s[:4], "INC-") {
		s = s[4:]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// EventKind names a timeline event.
type EventKind string

// Timeline event kinds.
const (
	EventDetected     EventKind = "detected"    // incident opened by an alert
	EventClassified   EventKind = "classified"  // rules decided severity/category
	EventAlertAdded   EventKind = "alert_added" // another alert joined
	EventAlertResolve EventKind = "alert_resolved"
	EventAlertRefire  EventKind = "alert_refired"
	EventEscalated    EventKind = "escalated" // a step paged a role
	EventStepSkipped  EventKind = "step_skipped"
	EventNotified     EventKind = "notified"        // a delivery succeeded
	EventDeliveryFail EventKind = "delivery_failed" // an attempt failed
	EventAcknowledged EventKind = "acknowledged"
	EventUpdate       EventKind = "update_posted"
	EventSLABreached  EventKind = "sla_breached"
	EventResolved     EventKind = "resolved"
	EventReopened     EventKind = "reopened"
	EventRaised       EventKind = "severity_raised"
	EventLowered      EventKind = "severity_lowered"
	EventSuppressed   EventKind = "suppressed"   // an alert silenced, in maintenance or inhibited; pages held
	EventUnsuppressed EventKind = "unsuppressed" // the suppression ended: held pages released
	EventTicket       EventKind = "ticket_filed"
	EventFlapEnded    EventKind = "flapping_ended" // stayed resolved for dedup.flapping.window
)

// Event is one entry of an incident's append-only timeline.
type Event struct {
	ID         int64     `json:"-"`
	IncidentID int64     `json:"-"`
	At         time.Time `json:"at"`
	Kind       EventKind `json:"kind"`
	Actor      string    `json:"actor,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}
