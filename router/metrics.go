package router

import "github.com/alertgate/alertgate/alert"

// What woke the engine for a pass (alertgate_engine_passes_total).
const (
	wokenStart = "start"
	wokenStore = "store"
	wokenFreed = "freed"
	wokenTimer = "timer"
)

// initSeries exports the series that do not depend on the targets at 0,
// so they exist before the first event: escalation steps by type and
// outcome, SLA breaches and times to ack/resolve by severity.
func (m *metrics) initSeries() {
	for _, typ := range []string{stepPage, stepAnnounce, stepAck, stepResolve, stepSLA, stepRemind, stepUpdate, stepTicket, stepFlapEnd} {
		for _, outcome := range []string{"sent", "skipped", "held"} {
			m.stepsRun.WithLabelValues(typ, outcome)
		}
	}
	for _, by := range []string{wokenStart, wokenStore, wokenFreed, wokenTimer} {
		m.passes.WithLabelValues(by)
	}
	for _, sev := range alert.Severities {
		for _, kind := range []string{slaResponse, slaResolution} {
			m.slaBreaches.WithLabelValues(sev.String(), kind)
		}
		for _, ev := range []string{"ack", "resolve"} {
			m.timeTo.WithLabelValues(sev.String(), ev)
		}
	}
}

// initTarget exports a target's series at 0 (successful deliveries,
// their duration, deferrals), so they exist before its first delivery;
// failures carry a reason known only when they happen.
func (m *metrics) initTarget(name, typ string) {
	m.deliveries.WithLabelValues(name, typ, "ok", "")
	m.latency.WithLabelValues(name)
	m.deferred.WithLabelValues(name)
}
