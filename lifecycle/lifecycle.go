package lifecycle

import (
	"fmt"
	"time"

	"github.com/alertgate/alertgate/alert"
)

// Policy is the configuration the decisions follow: dedup.reopen_within
// and dedup.flapping.
type Policy struct {
	// ReopenWithin reopens a resolved incident whose group fires again
	// within this time of its resolution; 0 never reopens.
	ReopenWithin time.Duration
	// Flapping is the hysteresis of incidents that keep reopening; zero
	// turns it off.
	Flapping Flapping
}

// Flapping marks an incident flapping when it reopens Reopens times
// within Window (dedup.flapping). While it is flapping, a reopen tells the
// channel and pages nobody (ChangeFlapped), and the incident reopens when
// its group fires within Window of its resolution even when that is later
// than the reopen window; once it has stayed resolved for Window it is no
// longer flapping.
type Flapping struct {
	Reopens int
	Window  time.Duration
}

// On reports whether the hysteresis is configured.
func (f Flapping) On() bool { return f.Reopens > 0 && f.Window > 0 }

// Action is where an alert that goes to its group ends up.
type Action uint8

const (
	// Open: a new incident opens for the alert.
	Open Action = iota
	// Join: the alert joins the group's open incident.
	Join
	// Reopen: the group's recently resolved incident reopens.
	Reopen
	// Suppress: the alert is stored with its suppression, in no incident.
	Suppress
)

func (a Action) String() string {
	switch a {
	case Open:
		return "open"
	case Join:
		return "join"
	case Reopen:
		return "reopen"
	case Suppress:
		return "suppress"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Latest is what the store knows of the latest incident of an alert's
// group: the open one, else the most recently resolved one it found
// within LookBack.
type Latest struct {
	ID int64
	// Open: triggered or acknowledged.
	Open     bool
	Severity alert.Severity
	// ResolvedAt, Flaps and Flapping describe a resolved incident.
	ResolvedAt time.Time
	Flaps      int
	Flapping   bool
	// RecentReopens is how many times the incident reopened within the
	// flapping window before now; it matters only when CountsReopens
	// says so.
	RecentReopens int
}

// Decision is what Decide decided for an alert that goes to its group.
type Decision struct {
	Action Action
	// Incident is the incident joined or reopened.
	Incident int64
	// Raise (Join): the alert is more urgent than the incident it joins;
	// the incident takes the alert's severity.
	Raise bool
	// Reopening describes a Reopen.
	Reopening Reopening
}

// Decide places a firing alert of severity sev that belongs to no open
// incident yet: it joins the group's open incident (latest.Open), is
// suppressed, reopens the group's latest incident, or opens a new one, in
// that order. latest is nil when the group has no incident to join or
// reopen; suppressed matters only when the group has no open incident
// (the store need not check suppression otherwise).
func (p Policy) Decide(now time.Time, sev alert.Severity, latest *Latest, suppressed bool) Decision {
	switch {
	case latest != nil && latest.Open:
		return Decision{Action: Join, Incident: latest.ID, Raise: Raises(latest.Severity, sev)}
	case suppressed:
		return Decision{Action: Suppress}
	}
	if r, ok := p.reopen(now, latest); ok {
		return Decision{Action: Reopen, Incident: latest.ID, Reopening: r}
	}
	return Decision{Action: Open}
}
