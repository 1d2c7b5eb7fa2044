package store

import (
	"errors"

	"github.com/alertgate/alertgate/alert"
)

// Errors the store returns; the server maps them to HTTP codes.
var (
	// ErrNotFound: no such incident (or silence, delivery).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change is not allowed in the current state, e.g.
	// acknowledging a resolved incident.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database can't take writes now; the caller
	// should retry (HTTP 503).
	ErrUnavailable = errors.New("storage unavailable")
	// ErrInvalid: the request is malformed (HTTP 400).
	ErrInvalid = errors.New("invalid")
)

// IngestResult says what an ingest did.
type IngestResult struct {
	// Alerts is how many alerts the request carried.
	Alerts int `json:"alerts"`
	// Unchanged counts repeats of firing alerts that changed nothing.
	Unchanged int `json:"unchanged"`
	// Suppressed counts alerts that are silenced, in a maintenance window
	// or inhibited: stored, paging nobody.
	Suppressed int `json:"suppressed"`
	// Incidents lists the keys of the incidents the alerts belong to.
	Incidents []string `json:"incidents"`
}

// IncidentFilter selects incidents for listing.
type IncidentFilter struct {
	// Status filters by status when set.
	Status alert.IncidentStatus
	// Open keeps only incidents not resolved (triggered or acknowledged).
	Open bool
	// Severity filters by severity when non-nil.
	Severity *alert.Severity
	// Service keeps only incidents of this service (exact) when set.
	Service string
	// Text keeps only incidents whose title, service or category contains
	// it, ignoring (ASCII) case, when set.
	Text string
	// Limit caps the result (default 100, at most 1000).
	Limit int
}

// IncidentDetail is an incident with its alerts and timeline.
type IncidentDetail struct {
	Incident alert.Incident `json:"incident"`
	// Suppressed is set while every firing alert of the open incident is
	// silenced or in a maintenance window: its pages are held meanwhile.
	Suppressed *Hold `json:"suppressed,omitempty"`
	// Held lists the steps held back ("page/oncall#1"), due once the
	// suppression ends.
	Held     []string      `json:"held,omitempty"`
	Alerts   []StoredAlert `json:"alerts"`
	Timeline []alert.Event `json:"timeline"`
}

// StoredAlert is an alert as kept in the store.
type StoredAlert struct {
	alert.Alert
	IncidentKey string `json:"incident"`
	// Repeats counts how often the alert arrived again.
	Repeats int `json:"repeats"`
	// SuppressedBy is "silence:<id>", "maintenance:<name>" or
	// "inhibited:<incident>" while the alert pages nobody.
	SuppressedBy string `json:"suppressed_by,omitempty"`
}
