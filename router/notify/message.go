package notify

import (
	"context"
	"time"

	"github.com/alertgate/alertgate/alert"
)

// MessageKind says what a Message asks the receiving system to do.
type MessageKind string

// Message kinds.
const (
	// KindPage pages a role for an incident (PagerDuty trigger).
	KindPage MessageKind = "page"
	// KindAcknowledge tells a target that paged earlier that the incident
	// is acknowledged (PagerDuty acknowledge).
	KindAcknowledge MessageKind = "acknowledge"
	// KindResolve tells a target that the incident is resolved.
	KindResolve MessageKind = "resolve"
	// KindInfo is a channel message that pages nobody (the internal
	// channel told of a new incident, a status update).
	KindInfo MessageKind = "info"
	// KindTicket asks a ticket target to file the incident (once, at
	// open); a Ticketer answers with the ticket's reference.
	KindTicket MessageKind = "ticket"
)

// Message is one delivery to one target. Notifiers turn it into their
// service's wire format; they never decide whether to send it.
type Message struct {
	Kind MessageKind `json:"kind"`
	// IdempotencyKey is stable for one (incident, step, target): a retry of
	// the same delivery carries the same key. Notifiers pass it downstream
	// where the service supports it.
	IdempotencyKey string `json:"idempotency_key"`
	// DedupKey identifies the incident downstream (PagerDuty dedup_key,
	// Opsgenie alias) so triggers, acks and resolves address one alert.
	DedupKey string         `json:"dedup_key"`
	Incident alert.Incident `json:"incident"`
	// Role is the role paged ("oncall"); empty for channel messages.
	Role string `json:"role,omitempty"`
	// Step names the escalation step ("oncall#0", "team-lead#0",
	// "open:#incidents").
	Step string `json:"step"`
	// StepType is what the step is: page, announce, ack, resolve, sla,
	// update, remind, ticket, postmortem or digest (whose Summary and Text
	// the engine writes, and the default templates keep). Templates choose
	// their words by it.
	StepType string `json:"step_type,omitempty"`
	// Mark (pages) is when the step was due, counted from the incident's
	// opening: the matrix cell ("30m" for the eng-manager of a P0).
	Mark time.Duration `json:"mark,omitempty"`
	// Detail is what the step has to say beyond the incident: the SLA
	// breached, a status update's text, a reminder.
	Detail string `json:"detail,omitempty"`
	// Flap is the incident's flap count when the step belongs to a plan
	// started by a reopening (0 otherwise); Flapping says the incident
	// keeps reopening.
	Flap     int  `json:"flap,omitempty"`
	Flapping bool `json:"flapping,omitempty"`
	// Channel is the internal channel a KindInfo message is for.
	Channel string `json:"channel,omitempty"`
	// Summary is a one-line description: "[P0] INC-7 checkout: error rate".
	// The engine writes a plain one; notifiers replace it with the
	// target's rendered title (router/template) before sending.
	Summary string `json:"summary"`
	// Text is a longer human-readable body: the engine's plain one,
	// replaced by the target's rendered text like Summary.
	Text string `json:"text,omitempty"`
	// AckURL acknowledges the incident in one click; IncidentURL shows it.
	AckURL      string `json:"ack_url,omitempty"`
	IncidentURL string `json:"incident_url,omitempty"`
	// PostmortemURL is the incident's post-mortem draft (resolutions).
	PostmortemURL string            `json:"postmortem_url,omitempty"`
	Runbook       *Runbook          `json:"runbook,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Alerts        []AlertSummary    `json:"alerts,omitempty"`
	// At is when the message was produced.
	At time.Time `json:"at"`
	// Ref is what this target answered for this incident before, when it
	// is a Referencer (e.g. the Statuspage incident id); "" the first time.
	Ref string `json:"ref,omitempty"`
}

// Runbook is the runbook attached to an incident.
type Runbook struct {
	Name  string   `json:"name"`
	Title string   `json:"title"`
	URL   string   `json:"url,omitempty"`
	Steps []string `json:"steps,omitempty"`
}

// AlertSummary is an alert as shown in a message.
type AlertSummary struct {
	Fingerprint  string            `json:"fingerprint"`
	Status       alert.Status      `json:"status"`
	Title        string            `json:"title"`
	Description  string            `json:"description,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	StartsAt     time.Time         `json:"starts_at"`
	GeneratorURL string            `json:"generator_url,omitempty"`
	// From the annotations: the alert's own runbook and, from Grafana,
	// its silence, dashboard and panel links.
	RunbookURL   string `json:"runbook_url,omitempty"`
	SilenceURL   string `json:"silence_url,omitempty"`
	DashboardURL string `json:"dashboard_url,omitempty"`
	PanelURL     string `json:"panel_url,omitempty"`
}

// Notifier sends a message to one target. It returns nil when the target
// accepted the message and a *DeliveryError (or an error wrapping one)
// otherwise; any other error counts as temporary.
type Notifier interface {
	Notify(ctx context.Context, m *Message) error
}

// Ticketer is a notifier that files tickets and returns their reference
// (the webhook notifier: "OPS-123 https://…").
type Ticketer interface {
	Ticket(ctx context.Context, m *Message) (ref string, err error)
}

// Referencer is a notifier whose service keeps its own record of the
// incident (a status page incident): Deliver returns that record's
// reference, and later messages to the same target carry it in
// Message.Ref. An empty ref keeps the one stored.
type Referencer interface {
	Deliver(ctx context.Context, m *Message) (ref string, err error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, m *Message) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, m *Message) error { return f(ctx, m) }
