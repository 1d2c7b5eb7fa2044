// Package alert holds the domain model shared by every stage of the pipeline:
// the normalized Alert that adapters produce, the Severity levels P0–P3, and
// the Incident with its append-only timeline. It depends on the standard
// library only.
package alert
