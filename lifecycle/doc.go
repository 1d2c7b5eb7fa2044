// Package lifecycle decides what an alert does to the incidents of its
// group: join the open incident, reopen a recently resolved one (and
// whether that makes it flapping), open a new one, or stay out of any
// incident because it is suppressed; whether it raises the severity of
// the incident it joins; what a suppression writes; and what a person's
// acknowledgement, resolution or change of severity does. Like rules,
// which classifies, it is pure logic: it decides from plain values and
// returns the decision, with no I/O and every time from the caller. The
// store reads the values in its transaction, asks here, and writes what
// the decision says.
//
// # An alert arrives
//
// Next takes the alert's stored state (nil when never seen) and says what
// the alert does on its own: repeat in its open incident, fire again in
// it, go to its group, or, resolved, count down its incident's firing
// alerts. An alert that goes to its group is placed by Policy.Decide from
// the group's latest incident:
//
//   - the group has an open incident: the alert joins it, raising its
//     severity when it is more urgent (Raises; a less urgent alert never
//     lowers it);
//   - otherwise a suppressed alert (silenced, in a maintenance window or
//     inhibited, as rules.Suppress decides) stays out of any incident;
//   - otherwise an incident of the group resolved within reopen_within
//     (the boundary included) reopens; with dedup.flapping on, the reopen
//     that makes Flapping.Reopens reopens within Flapping.Window turns it
//     flapping, and a flapping incident reopens for as long as it has been
//     resolved for less than the window, even past reopen_within, telling
//     the channel only (ChangeFlapped);
//   - otherwise a new incident opens (Opening: what it is opened with).
//
// # Suppression
//
// Whether an alert is silenced, in a maintenance window or inhibited is
// rules.Suppress's decision. Here: what storing a suppression writes
// (RecordSuppression: told once per reason, an inhibition on the
// inhibiting incident's timeline), when the re-evaluation releases a
// suppressed alert to ingest again (Releases), and when a resolved alert
// ends the expire_on_resolve silence that silenced it (ExpiringSilence,
// EndsSilence).
//
// # By hand
//
// Acknowledge, Resolve and Relevels decide whether a person's change
// applies to an incident in its status, changes nothing, or is refused.
// SetSeverity decides a person's change of an open incident's severity:
// kept, raised (the new level's steps already due run now) or lowered
// (its pages already due are left out, Skips).
package lifecycle
