package notify

import (
	"time"

	"github.com/alertgate/alertgate/alert"
)

// ResponseVerdict is SLAVerdict for the incident's response target: an
// incident resolved before its acknowledgement was due, without one (it
// resolved by itself), did not miss it.
func ResponseVerdict(inc *alert.Incident) string {
	if inc.AcknowledgedAt.IsZero() && !inc.AckDue.IsZero() && !inc.ResolvedAt.IsZero() && !inc.ResolvedAt.After(inc.AckDue) {
		return "not needed (resolved before the acknowledgement was due)"
	}
	return SLAVerdict(inc.AcknowledgedAt, inc.AckDue)
}

// SLAVerdict says whether something done at done met its deadline due:
// "met", "missed", or "not set" without a deadline. An ack that never
// happened misses a deadline.
func SLAVerdict(done, due time.Time) string {
	switch {
	case due.IsZero():
		return "not set"
	case done.IsZero() || done.After(due):
		return "missed"
	}
	return "met"
}
