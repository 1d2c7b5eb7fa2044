// Package rules classifies alerts: it decides each alert's severity,
// category and runbook from ordered, Alertmanager-style label matchers, and
// the group key that decides which incident it joins. It does no I/O.
package rules
