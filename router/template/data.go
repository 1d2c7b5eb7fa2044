package template

import (
	"fmt"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// Data is what a template sees: the message's fields (.Kind, .Incident,
// .Role, .StepType, .Mark, .Detail, .Flap, .Flapping, .AckURL,
// .IncidentURL, .PostmortemURL, .Runbook, .Labels, .Alerts, .At …) and
// the methods below. Times print in the configured time zone through
// .Local; relative times count from .At, when the message was made.
type Data struct {
	*notify.Message
	loc *time.Location
}

// Local formats t in the configured time zone, "2006-01-02 15:04 MST";
// "" for the zero time.
func (d Data) Local(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(d.loc).Format("2006-01-02 15:04 MST")
}

// Ago is how long before the message t was, "12 min ago"; "" for the
// zero time.
func (d Data) Ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return Short(d.At.Sub(t)) + " ago"
}

// Short writes a duration the way a pager reads it: "45s", "12 min",
// "1h 5m", "2d 3h".
func Short(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// Short is the function Short as a method, for templates: {{ .Short .Mark }}.
func (Data) Short(d time.Duration) string { return Short(d) }

// Acknowledged reports whether the incident is acknowledged (and not
// resolved).
func (d Data) Acknowledged() bool { return d.Incident.Status == alert.IncidentAcknowledged }

// Firing returns the alerts that still fire.
func (d Data) Firing() []notify.AlertSummary {
	var out []notify.AlertSummary
	for _, a := range d.Alerts {
		if a.Status == alert.StatusFiring {
			out = append(out, a)
		}
	}
	return out
}

// Started is when the trouble started: the earliest start of the
// message's alerts (Alertmanager's startsAt; a probe's first failure),
// else when the incident opened. An alert firing for days before it
// reached the gateway then reads "started 3d ago", not "0s ago".
func (d Data) Started() time.Time {
	start := d.Incident.OpenedAt
	for _, a := range d.Alerts {
		if !a.StartsAt.IsZero() && a.StartsAt.Before(start) {
			start = a.StartsAt
		}
	}
	return start
}

// OpenedLater reports whether the incident opened a minute or more after
// its trouble started (the message then says when it opened too).
func (d Data) OpenedLater() bool { return d.Incident.OpenedAt.Sub(d.Started()) >= time.Minute }

// Lasted is how long the incident was open: until it resolved, else
// until the message.
func (d Data) Lasted() string {
	end := d.Incident.ResolvedAt
	if end.IsZero() {
		end = d.At
	}
	return Short(end.Sub(d.Incident.OpenedAt))
}

// ResponseSLA is "met", "missed", "not set" or "not needed": acknowledged
// by AckDue (see notify.ResponseVerdict).
func (d Data) ResponseSLA() string {
	return notify.ResponseVerdict(&d.Incident)
}

// ResolutionSLA is "met", "missed" or "not set": resolved by ResolveDue.
func (d Data) ResolutionSLA() string {
	return notify.SLAVerdict(d.Incident.ResolvedAt, d.Incident.ResolveDue)
}

// FirstSteps returns the attached runbook's first n steps (all when n ≤ 0).
func (d Data) FirstSteps(n int) []string {
	if d.Runbook == nil {
		return nil
	}
	if n <= 0 || n >= len(d.Runbook.Steps) {
		return d.Runbook.Steps
	}
	return d.Runbook.Steps[:n]
}

// MoreSteps is how many runbook steps FirstSteps(n) leaves out.
func (d Data) MoreSteps(n int) int {
	if d.Runbook == nil || n <= 0 || n >= len(d.Runbook.Steps) {
		return 0
	}
	return len(d.Runbook.Steps) - n
}
