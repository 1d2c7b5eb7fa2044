package lifecycle

import "fmt"

// Stored is the stored state of an alert (its source and fingerprint)
// before the one arriving.
type Stored struct {
	// Firing: its last status was firing.
	Firing bool
	// Incident is the incident it belongs to (0: none) and IncidentOpen
	// whether that incident is triggered or acknowledged.
	Incident     int64
	IncidentOpen bool
	// Suppressed: it is silenced, in a maintenance window or inhibited.
	Suppressed bool
}

// Counted reports whether the stored alert counts in its incident's
// firing count: it fires, belongs to an incident and is not suppressed.
func (s *Stored) Counted() bool {
	return s != nil && s.Firing && s.Incident > 0 && !s.Suppressed
}

// InOpen reports whether the stored alert belongs to an open incident.
func (s *Stored) InOpen() bool {
	return s != nil && s.Incident != 0 && s.IncidentOpen
}

// Step is what an arriving alert does, given its stored state.
type Step uint8

const (
	// StepRepeat: it fires and fired, in its open incident: stored again
	// when its content changed (which may raise the incident's severity).
	StepRepeat Step = iota
	// StepRefire: it fires again in its incident, still open: counted
	// firing again, told on the timeline, and it may raise the severity.
	StepRefire
	// StepGroup: it fires and is in no open incident: its group decides
	// (Policy.Decide).
	StepGroup
	// StepRecord: resolved and never seen: recorded, in no incident.
	StepRecord
	// StepResolve: resolved while firing in its open incident: counted
	// down, told on the timeline; the incident resolves when none of its
	// alerts fires any more.
	StepResolve
	// StepSettle: resolved otherwise (already resolved, or its incident
	// is): stored again when its content changed; it stops counting in
	// the incident that counted it firing (one resolved by hand).
	StepSettle
)

func (s Step) String() string {
	switch s {
	case StepRepeat:
		return "repeat"
	case StepRefire:
		return "refire"
	case StepGroup:
		return "group"
	case StepRecord:
		return "record"
	case StepResolve:
		return "resolve"
	case StepSettle:
		return "settle"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Next decides what an alert that fires (or, firing false, is resolved)
// does, given its stored state (nil: never stored).
func Next(firing bool, st *Stored) Step {
	open := st.InOpen()
	switch {
	case firing && open && st.Firing:
		return StepRepeat
	case firing && open:
		return StepRefire
	case firing:
		return StepGroup
	case st == nil:
		return StepRecord
	case open && st.Firing:
		return StepResolve
	}
	return StepSettle
}

// ResolvesIncident reports whether an incident whose firing count fell
// to firing (StepResolve) resolves: none of its alerts fires any more.
func ResolvesIncident(firing int) bool { return firing <= 0 }
