// Package test holds alertgate's end-to-end scenarios: the gateway runs
// in-process on a random port (or as a real process for the restart test),
// is fed by Alertmanager's own webhook notifier, and pages recording HTTP
// sinks.
package test
