package router

import (
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// The delivery contract lives in router/notify, the leaf package the
// notifiers import; these names keep the router's own code and its users
// short.
type (
	// Message is one delivery to one target (notify.Message).
	Message = notify.Message
	// MessageKind says what a Message asks of its target.
	MessageKind = notify.MessageKind
	// Runbook is the runbook attached to an incident.
	Runbook = notify.Runbook
	// AlertSummary is an alert as shown in a message.
	AlertSummary = notify.AlertSummary
	// Notifier sends a message to one target.
	Notifier = notify.Notifier
	// Ticketer is a notifier that files tickets.
	Ticketer = notify.Ticketer
	// Referencer is a notifier whose service keeps its own record.
	Referencer = notify.Referencer
	// NotifierFunc adapts a function to Notifier.
	NotifierFunc = notify.NotifierFunc
	// DeliveryError is a failed delivery attempt.
	DeliveryError = notify.DeliveryError
)

// Message kinds.
const (
	KindPage        = notify.KindPage
	KindAcknowledge = notify.KindAcknowledge
	KindResolve     = notify.KindResolve
	KindInfo        = notify.KindInfo
	KindTicket      = notify.KindTicket
)

// Reasons label delivery failures in metrics and on the timeline.
const (
	ReasonAuth        = notify.ReasonAuth
	ReasonRateLimited = notify.ReasonRateLimited
	ReasonClient      = notify.ReasonClient
	ReasonServer      = notify.ReasonServer
	ReasonTimeout     = notify.ReasonTimeout
	ReasonNetwork     = notify.ReasonNetwork
	ReasonBreakerOpen = notify.ReasonBreakerOpen
	ReasonConfig      = notify.ReasonConfig
)

// AsDeliveryError returns err as a *DeliveryError; an error that is not
// one is a temporary network failure.
func AsDeliveryError(err error) *DeliveryError { return notify.AsDeliveryError(err) }

// ResponseVerdict says whether the incident met its response target
// (notify.ResponseVerdict).
func ResponseVerdict(inc *alert.Incident) string { return notify.ResponseVerdict(inc) }

// SLAVerdict says whether something done at done met its deadline due
// (notify.SLAVerdict).
func SLAVerdict(done, due time.Time) string { return notify.SLAVerdict(done, due) }
