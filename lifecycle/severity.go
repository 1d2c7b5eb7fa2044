package lifecycle

import (
	"fmt"
	"time"

	"github.com/alertgate/alertgate/alert"
)

// Raises reports whether an alert of severity sev raises an incident of
// severity cur: it does when it is more urgent; a less urgent alert never
// lowers an incident's severity.
func Raises(cur, sev alert.Severity) bool { return sev < cur }

// Relevel is a person's change of an open incident's severity.
type Relevel uint8

const (
	// Kept: the same severity; nothing changes.
	Kept Relevel = iota
	// Raised: more urgent; the new level's steps already due run now, as
	// when an alert raises it (severity_raised on the timeline).
	Raised
	// Lowered: less urgent; the new level's pages already due are left
	// out (severity_lowered on the timeline).
	Lowered
)

func (r Relevel) String() string {
	switch r {
	case Kept:
		return "kept"
	case Raised:
		return "raised"
	case Lowered:
		return "lowered"
	}
	return fmt.Sprintf("relevel(%d)", uint8(r))
}

// SetSeverity decides a person's change of an open incident's severity
// from from to to.
func SetSeverity(from, to alert.Severity) Relevel {
	switch {
	case to == from:
		return Kept
	case to > from:
		return Lowered
	}
	return Raised
}

// Event is the timeline entry of the change.
func (r Relevel) Event() alert.EventKind {
	if r == Lowered {
		return alert.EventLowered
	}
	return alert.EventRaised
}

// Skips reports whether a step of the new level's plan is left out: a
// page (page) already due at now when the severity was lowered — nobody is
// paged again because the incident became less urgent.
func (r Relevel) Skips(page bool, due, now time.Time) bool {
	return r == Lowered && page && !due.After(now)
}
