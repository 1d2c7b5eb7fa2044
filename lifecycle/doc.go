// Package lifecycle decides what an alert does to the incidents of its
// group: join the open incident, reopen a recently resolved one (and
// whether that makes it flapping), open a new one, or stay out of any
// incident because it is suppressed; and whether it raises the severity
// of the incident it joins. Like rules, which classifies, it is pure
// logic: it decides from plain values and returns the decision, with no
// I/O and every time from the caller. The store reads the values in its
// ingest transaction, asks here, and writes what the decision says.
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
//   - otherwise a new incident opens.
package lifecycle
