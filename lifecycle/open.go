package lifecycle

import (
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/rules"
)

// Opening is the incident a firing alert opens (Decide's Open): triggered
// at now, with the alert's classification d (severity, category, runbook,
// group key), counting the alert as its one firing alert, titled by the
// alert (by its fingerprint when it has no title). Its deadlines follow
// its severity; they are the planner's to set.
func Opening(a *alert.Alert, d *rules.Decision, now time.Time) alert.Incident {
	inc := alert.Incident{
		Severity:    d.Severity,
		Status:      alert.IncidentTriggered,
		Title:       a.Title,
		Service:     a.Service,
		Category:    d.Category,
		Runbook:     d.Runbook,
		GroupKey:    d.GroupKey,
		Source:      a.Source,
		AlertCount:  1,
		FiringCount: 1,
		OpenedAt:    now,
		UpdatedAt:   now,
	}
	if inc.Title == "" {
		inc.Title = a.Fingerprint
	}
	return inc
}

// Manual is what a person's acknowledgement or resolution does to an
// incident.
type Manual uint8

const (
	// Applies: the incident changes.
	Applies Manual = iota
	// Unchanged: nothing to do (acknowledging an acknowledged incident,
	// resolving a resolved one).
	Unchanged
	// Refused: not allowed in the incident's status (a conflict).
	Refused
)

// Acknowledge decides a person's acknowledgement of an incident in
// status st: a resolved incident cannot be acknowledged.
func Acknowledge(st alert.IncidentStatus) Manual {
	switch st {
	case alert.IncidentResolved:
		return Refused
	case alert.IncidentAcknowledged:
		return Unchanged
	}
	return Applies
}

// Resolve decides a person's resolution of an incident in status st.
func Resolve(st alert.IncidentStatus) Manual {
	if st == alert.IncidentResolved {
		return Unchanged
	}
	return Applies
}

// Relevels decides whether a person may set the severity of an incident in
// status st: a resolved incident's severity is final.
func Relevels(st alert.IncidentStatus) Manual {
	if st == alert.IncidentResolved {
		return Refused
	}
	return Applies
}
