package lifecycle

import (
	"strings"

	"github.com/alertgate/alertgate/rules"
)

// Whether an alert is suppressed is rules.Suppress's decision (silences,
// maintenance windows, inhibition); whether that is consulted at all is
// Decide's (only for an alert whose group has no open incident). The
// decisions below are what a suppression then writes, when it releases
// its alert, and when it ends a silence.

// Tag is how a suppression is stored on its alert: "kind:id" ("silence:
// <id>", "maintenance:<name>", "inhibited:<incident key>").
func Tag(sup rules.Suppression) string { return sup.Kind + ":" + sup.ID }

// SplitTag is Tag's inverse: the kind and id of a stored tag.
func SplitTag(tag string) (kind, id string) {
	kind, id, _ = strings.Cut(tag, ":")
	return kind, id
}

// Suppressing is what storing a suppressed alert writes besides the alert
// and its Tag.
type Suppressing struct {
	// New: the alert was not suppressed for this reason before, so the
	// suppression is told (an alert suppressed again for the same reason
	// is not told twice).
	New bool
	// Inhibitor is the inhibiting incident whose timeline tells that it
	// inhibits the alert (New inhibitions only; 0: none).
	Inhibitor int64
}

// RecordSuppression decides what a suppression writes for an alert
// stored with the tag prev ("" when it was not suppressed or never
// stored).
func RecordSuppression(prev string, sup rules.Suppression) Suppressing {
	if prev == Tag(sup) {
		return Suppressing{}
	}
	s := Suppressing{New: true}
	if sup.Kind == rules.KindInhibited && sup.IncidentID > 0 {
		s.Inhibitor = sup.IncidentID
	}
	return s
}

// Releases reports whether re-evaluating a suppressed alert stored with
// tag releases it to ingest again: it is no longer suppressed (suppressed
// false), or suppressed for another reason (then ingest records the new
// one).
func Releases(tag string, sup rules.Suppression, suppressed bool) bool {
	return !suppressed || Tag(sup) != tag
}

// ExpiringSilence is the silence a suppressed firing alert stored with tag
// may end when it resolves: the one that silenced it, if it expires on
// resolve. ok is false for an alert not silenced (in a maintenance window,
// inhibited).
func ExpiringSilence(tag string) (id string, ok bool) {
	if id, ok = strings.CutPrefix(tag, rules.KindSilence+":"); !ok {
		return "", false
	}
	return id, true
}

// EndsSilence reports whether a silence that expires on resolve ends when
// one of its alerts resolves and firing others still fire: once none does.
func EndsSilence(firing int) bool { return firing == 0 }
