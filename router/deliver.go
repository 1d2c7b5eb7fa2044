package router

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
	"github.com/alertgate/alertgate/store"
)

// message builds the message of one delivery.
func (e *Engine) message(cfg *config.Config, kind notify.MessageKind, inc *alert.Incident, alerts []alert.Alert, p *stepPayload, key string) *notify.Message {
	base := strings.TrimRight(cfg.Server.ExternalURL, "/")
	m := &notify.Message{
		Kind:           kind,
		IdempotencyKey: key,
		DedupKey:       "alertgate/" + inc.Key,
		Incident:       *inc,
		Role:           p.Role,
		Step:           stepName(p),
		Channel:        p.Channel,
		StepType:       p.Type,
		IncidentURL:    base + "/incidents/" + inc.Key, // the console's incident page
		At:             e.now().UTC(),
	}
	// The message is what its payload decodes to (a delivery claimed as
	// written is sent from memory, a retry from the payload): the
	// incident's row id is not encoded, nor are empty lists.
	m.Incident.ID = 0
	if kind == notify.KindResolve || p.Type == stepPostmortem {
		m.PostmortemURL = base + "/incidents/" + inc.Key + "#h-pm" // the console renders it, with a Markdown download
	}
	if p.Type == stepPage {
		m.Mark = cellDelay(cfg, p.Role, inc.Severity)
	}
	if (kind == notify.KindPage || kind == notify.KindInfo) && inc.Status == alert.IncidentTriggered {
		if e.links != nil {
			m.AckURL = e.links.URL(base, inc.ID, ActionAck)
		} else {
			m.AckURL = base + "/api/v1/incidents/" + inc.Key + "/ack"
		}
	}
	if rb := cfg.Runbook(inc.Runbook); rb != nil { // a name, or the URL of an alert's runbook_url
		m.Runbook = &notify.Runbook{Name: rb.Name, Title: rb.Title, URL: rb.URL}
		if len(rb.Steps) > 0 {
			m.Runbook.Steps = rb.Steps
		}
	}
	if len(alerts) > 0 {
		m.Labels = alerts[0].Labels
	}
	for _, a := range alerts {
		m.Alerts = append(m.Alerts, notify.AlertSummary{Fingerprint: a.Fingerprint, Status: a.Status, Title: a.Title,
			Description: a.Description, Labels: a.Labels, StartsAt: a.StartsAt, GeneratorURL: a.GeneratorURL,
			RunbookURL: a.Annotations["runbook_url"], SilenceURL: a.Annotations["silence_url"],
			DashboardURL: a.Annotations["dashboard_url"], PanelURL: a.Annotations["panel_url"]})
	}
	svc := ""
	if inc.Service != "" {
		svc = " " + inc.Service + ":"
	}
	m.Summary = fmt.Sprintf("[%s] %s%s %s", inc.Severity, inc.Key, svc, inc.Title)
	var b strings.Builder
	switch kind {
	case notify.KindPage:
		if inc.Status == alert.IncidentAcknowledged {
			fmt.Fprintf(&b, "%s (%s) incident %s was acknowledged by %s %s ago — %s is told because it is still unresolved at %s.\n",
				inc.Severity, inc.Severity.Name(), inc.Key, inc.AcknowledgedBy, template.Short(m.At.Sub(inc.AcknowledgedAt)), p.Role, template.Short(m.Mark))
		} else {
			fmt.Fprintf(&b, "%s (%s) incident %s needs %s.\n", inc.Severity, inc.Severity.Name(), inc.Key, p.Role)
		}
	case notify.KindInfo:
		what := "New"
		switch {
		case strings.HasPrefix(p.Tag, "r"):
			what = fmt.Sprintf("Reopened (flap #%d)", inc.Flaps)
		case strings.HasPrefix(p.Tag, "s"):
			what = "Severity raised:"
			m.Detail = "Severity raised:"
		}
		fmt.Fprintf(&b, "%s %s (%s) incident %s.\n", what, inc.Severity, inc.Severity.Name(), inc.Key)
	case notify.KindAcknowledge:
		m.Summary = "Acknowledged: " + m.Summary
		fmt.Fprintf(&b, "%s acknowledged by %s.\n", inc.Key, inc.AcknowledgedBy)
	case notify.KindResolve:
		m.Summary = "Resolved: " + m.Summary
		fmt.Fprintf(&b, "%s resolved by %s after %s.\n", inc.Key, inc.ResolvedBy, template.Short(inc.ResolvedAt.Sub(inc.OpenedAt)))
	}
	fmt.Fprintf(&b, "Title: %s\n", inc.Title)
	if inc.Service != "" {
		fmt.Fprintf(&b, "Service: %s\n", inc.Service)
	}
	fmt.Fprintf(&b, "Alerts: %d (%d firing)\n", inc.AlertCount, inc.FiringCount)
	if m.Runbook != nil {
		fmt.Fprintf(&b, "Runbook: %s\n", m.Runbook.Title)
	}
	if m.AckURL != "" {
		if e.links != nil {
			fmt.Fprintf(&b, "Acknowledge: %s\n", m.AckURL)
		} else {
			fmt.Fprintf(&b, "Acknowledge: POST %s\n", m.AckURL)
		}
	}
	m.Text = b.String()
	switch p.Type {
	case stepSLA:
		m.Detail = slaDetail(cfg, inc, p.SLA)
		m.Summary = "SLA breached: " + m.Summary
		m.Text = m.Detail + ".\n" + m.Text
	case stepUpdate:
		m.Detail = p.Text
		m.Summary = "Update: " + m.Summary
		m.Text = p.Text
	case stepRemind:
		m.Detail = fmt.Sprintf("No status update for %s within its cadence (%s): post one with POST %s/api/v1/incidents/%s/updates or on its page.",
			inc.Key, cfg.Severities.Level(inc.Severity).Updates, base, inc.Key)
		m.Summary = "Update due: " + m.Summary
		m.Text = m.Detail + "\n" + m.Text
	case stepPostmortem:
		m.Summary = "Resolution summary: " + m.Summary
		m.Text = resolutionSummary(cfg, inc, m.PostmortemURL)
	}
	if n, ok := strings.CutPrefix(p.Tag, "r"); ok {
		m.Flap, _ = strconv.Atoi(n)
	}
	m.Flapping = inc.Flapping
	// As the default templates say it: "REOPENED (flap #3) FLAPPING [P0] …".
	if m.Flapping {
		m.Summary = "FLAPPING " + m.Summary
	}
	if m.Flap > 0 {
		m.Summary = fmt.Sprintf("REOPENED (flap #%d) %s", m.Flap, m.Summary)
	}
	return m
}

// stepPostmortem is the step type of the resolution summary posted to the
// internal channels of a resolved P0/P1 (it links the post-mortem draft).
const stepPostmortem = "postmortem"

// cellDelay is the matrix cell of role for sev: how long after the
// opening the role is paged.
func cellDelay(cfg *config.Config, role string, sev alert.Severity) time.Duration {
	for _, row := range cfg.Escalation.Matrix {
		if row.Role == role {
			return row.Cell(sev).Delay
		}
	}
	return 0
}

// resolutionSummary is the plain resolution summary of a resolved
// incident: duration, who resolved it, the SLA verdicts, the alert count
// and the link to the post-mortem draft.
func resolutionSummary(cfg *config.Config, inc *alert.Incident, draft string) string {
	lvl := cfg.Severities.Level(inc.Severity)
	var b strings.Builder
	fmt.Fprintf(&b, "%s resolved by %s after %s.\n", inc.Key, inc.ResolvedBy, template.Short(inc.ResolvedAt.Sub(inc.OpenedAt)))
	fmt.Fprintf(&b, "Response SLA (%s): %s. Resolution SLA (%s): %s.\n", lvl.Response, notify.ResponseVerdict(inc),
		lvl.Resolution, notify.SLAVerdict(inc.ResolvedAt, inc.ResolveDue))
	fmt.Fprintf(&b, "Alerts: %d.\n", inc.AlertCount)
	fmt.Fprintf(&b, "Post-mortem draft: %s\n", draft)
	return b.String()
}

// deliver sends one claimed delivery, using the slot of bulkhead b until
// the send is over, and records the result. The slot bounds the sends in
// flight, not the results being written: it is free again before the
// result's transaction, which on SQLite waits its turn behind the ingest's
// group commit. In that transaction it claims the target's next due
// delivery when the target can start one more, and returns it (marked as
// being sent) with the slot it took for it. known is j's message when the
// caller has it (the payload as it was encoded); nil: decoded from j.
func (e *Engine) deliver(ctx context.Context, j *store.Job, known *notify.Message, b string, goOn bool) (*store.Job, string) {
	log := e.log.With(zap.String("target", j.Target), zap.String("job", j.Key), zap.Int("attempt", j.Attempts))
	r := e.current()
	t, ok := r.targets[j.Target]
	var res store.DeliveryResult
	var m notify.Message
	if known != nil {
		m = *known
	}
	switch {
	case !ok:
		res = store.DeliveryResult{State: store.JobDead, Error: "target not configured",
			EventKind: alert.EventDeliveryFail, EventDetail: j.Target + ": target is no longer configured; dead letter"}
	case known == nil && json.Unmarshal(j.Payload, &m) != nil:
		res = store.DeliveryResult{State: store.JobDead, Error: "undecodable payload",
			EventKind: alert.EventDeliveryFail, EventDetail: j.Target + ": undecodable message; dead letter"}
	default:
		start := e.now()
		var ticket, ref string
		var err error
		switch n := t.n.(type) {
		case notify.Ticketer:
			if m.Kind == notify.KindTicket {
				ticket, err = t.ticket(ctx, n, &m)
				break
			}
			err = t.send(ctx, &m)
		case notify.Referencer:
			if m.Ref, err = e.st.TargetRef(ctx, j.IncidentID, j.Target); err == nil {
				ref, err = t.deliverRef(ctx, n, &m)
			}
		default:
			err = t.send(ctx, &m)
		}
		took := e.now().Sub(start)
		e.m.latency.WithLabelValues(t.name).Observe(took.Seconds())
		res = e.result(r, t, j, &m, err, took)
		res.Ticket, res.Ref = ticket, ref
	}
	e.release(b)
	var next *store.Job
	var nb string
	var err error
	if now := e.now(); goOn && e.canGoOn(r, j.Target, b, now) {
		seq := e.beginClaim()
		next, err = e.st.FinishAndClaimNext(ctx, j, res, now, e.lease)
		e.recorded(j.ID)
		now = e.now() // the result may have waited for the writer
		if next != nil {
			if why := e.startSending(next.ID, seq); why != sendIt {
				e.refused(ctx, next, why, now)
				next = nil
			}
		}
		if next != nil {
			var ok bool
			var wait time.Duration
			switch nb, _, wait, ok = e.admit(r, next.Target, now); {
			case !ok && wait == 0:
				// The room went meanwhile (to a delivery claimed as it was
				// written, or by a pass): back in the queue, due now.
				e.doneSending(next.ID)
				if derr := e.st.DeferDelivery(ctx, next, now); derr != nil {
					log.Error("give back a claim without room", zap.String("next", next.Key), zap.Error(derr))
				}
				next = nil
			case !ok:
				// Another send took the token meanwhile: back in the
				// queue, as runDue does.
				e.doneSending(next.ID)
				if derr := e.st.DeferDelivery(ctx, next, now.Add(wait)); derr != nil {
					log.Error("defer delivery", zap.String("next", next.Key), zap.Error(derr))
				}
				e.m.deferred.WithLabelValues(next.Target).Inc()
				next = nil
			}
		}
	} else {
		err = e.st.FinishDelivery(ctx, j, res)
		e.recorded(j.ID)
	}
	e.doneSending(j.ID)
	if err != nil {
		// The lease runs out and the delivery is tried again, with the same
		// idempotency key.
		log.Error("record delivery result", zap.Error(err))
		return next, nb
	}
	// The one log line per delivery result: the notifiers log none.
	switch res.State {
	case store.JobDone:
		log.Info("delivered", zap.String("action", j.Action), zap.String("kind", string(m.Kind)), zap.String("incident", m.Incident.Key),
			zap.String("ref", res.Ref), zap.String("ticket", res.Ticket))
	case store.JobPending:
		log.Warn("delivery failed, will retry", zap.String("error", res.Error), zap.Time("retry_at", res.RetryAt))
	case store.JobDead:
		log.Error("delivery dead", zap.String("error", res.Error))
	}
	return next, nb
}

func (e *Engine) result(r *routing, t *target, j *store.Job, m *notify.Message, err error, took time.Duration) store.DeliveryResult {
	what := fmt.Sprintf("%s %s", m.Kind, m.Step)
	if err == nil {
		t.recovered(e.now())
		t.st.sent(e.now(), true)
		e.m.deliveries.WithLabelValues(t.name, t.typ, "ok", "").Inc()
		return store.DeliveryResult{State: store.JobDone, EventKind: alert.EventNotified,
			EventDetail: fmt.Sprintf("%s: %s delivered (attempt %d, %s)", t.name, what, j.Attempts, tookText(took))}
	}
	de := notify.AsDeliveryError(err)
	now := e.now()
	// An open breaker sent nothing, and a 429 is the target pacing us:
	// neither counts against its success rate.
	if de.Reason != notify.ReasonBreakerOpen && de.Reason != notify.ReasonRateLimited {
		t.st.sent(now, false)
	}
	// A delivery is retried, and waits out an open breaker or a 429, for
	// at most retry.max_age: a page older than that helps nobody.
	maxAge := t.retry.MaxAge.D()
	tooOld := maxAge > 0 && now.Sub(j.CreatedAt) >= maxAge
	if !tooOld && (de.Reason == notify.ReasonBreakerOpen || de.Reason == notify.ReasonRateLimited) {
		// Nothing reached the target (open breaker), or it only asked us
		// to slow down (429): the delivery waits, keeping its attempts.
		at, why := t.halfOpenAt(now, j.Attempts-1), "the circuit breaker is open"
		if de.Reason == notify.ReasonRateLimited {
			at, why = t.throttle(now, de.RetryAfter), "the target asked to slow down (429)"
		}
		e.m.deliveries.WithLabelValues(t.name, t.typ, "wait", de.Reason).Inc()
		res := store.DeliveryResult{State: store.JobPending, RetryAt: at, Error: de.Error(), Unsent: true, EventKind: alert.EventDeliveryFail,
			EventDetail: fmt.Sprintf("%s: %s waits %s: %s", t.name, what, at.Sub(now).Round(time.Second), why)}
		if de.Reason == notify.ReasonBreakerOpen {
			// A page that can't wait goes to the fallback too.
			e.fallback(r, t, j, &res)
		}
		return res
	}
	if de.Temporary && !tooOld && j.Attempts < t.retry.MaxAttempts {
		wait := t.backoff(j.Attempts)
		if de.RetryAfter > wait {
			wait = de.RetryAfter
		}
		if maxAge > 0 {
			// The last try is at retry.max_age at the latest, however long
			// the backoff or a Retry-After (up to a day) would wait.
			wait = max(min(wait, j.CreatedAt.Add(maxAge).Sub(now)), 0)
		}
		e.m.deliveries.WithLabelValues(t.name, t.typ, "retry", de.Reason).Inc()
		res := store.DeliveryResult{State: store.JobPending, RetryAt: now.Add(wait), Error: de.Error(), EventKind: alert.EventDeliveryFail,
			EventDetail: fmt.Sprintf("%s: %s attempt %d failed after %s: %v; retry in %s", t.name, what, j.Attempts, tookText(took), de, wait.Round(time.Second))}
		// The primary keeps retrying, but a P0/P1 page that has gone
		// without success for fallback_after goes to the fallback too.
		if t.fallbackAfter > 0 && j.Priority <= int(alert.P1) && now.Sub(j.CreatedAt) >= t.fallbackAfter {
			e.fallback(r, t, j, &res)
		}
		return res
	}
	e.m.deliveries.WithLabelValues(t.name, t.typ, "dead", de.Reason).Inc()
	res := store.DeliveryResult{State: store.JobDead, Error: de.Error(), EventKind: alert.EventDeliveryFail,
		EventDetail: fmt.Sprintf("%s: %s attempt %d failed after %s: %v; dead letter", t.name, what, j.Attempts, tookText(took), de)}
	if tooOld && de.Temporary {
		res.EventDetail += fmt.Sprintf(" (retried for %s, its retry.max_age)", maxAge)
	}
	if de.Reason == notify.ReasonBreakerOpen || de.Reason == notify.ReasonRateLimited {
		res.Unsent = true
	}
	e.fallback(r, t, j, &res)
	return res
}

// fallback adds the delivery to the target's fallback, once (the key is
// unique), and says so on the timeline.
func (e *Engine) fallback(r *routing, t *target, j *store.Job, res *store.DeliveryResult) {
	fb := t.fallback
	if fb == "" {
		return
	}
	if _, ok := r.targets[fb]; !ok {
		return
	}
	res.EventDetail += "; falling back to " + fb
	res.Jobs = append(res.Jobs, store.JobSpec{Key: j.Key + "/fallback:" + fb, Kind: store.KindDelivery, DueAt: e.now(),
		StopOn: j.StopOn, Target: fb, Action: j.Action, Payload: j.Payload, Priority: j.Priority})
}

// tookText is how long a send took, for the timeline: to the millisecond,
// and "<1ms" for a send quicker than that (the log target) rather than a
// "0s" that reads as not measured.
func tookText(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}
