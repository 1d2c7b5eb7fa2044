package router

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// DigestStore is what digests need of the store.
type DigestStore interface {
	// ClaimFor claims key for work taking up to lease; true when this
	// call did it (or took over a claim whose claimant died). Done marks
	// the work done for good.
	ClaimFor(ctx context.Context, key string, lease time.Duration) (bool, error)
	Done(ctx context.Context, key string) error
	Unclaim(ctx context.Context, key string) error
	// Epoch is when the database first served.
	Epoch(ctx context.Context) (time.Time, error)
	DigestIncidents(ctx context.Context, sevs []alert.Severity, from, to time.Time) ([]alert.Incident, error)
	// Leader reports whether this replica runs periodic work (it holds
	// the lease); digests are sent by the leader only.
	Leader() bool
}

// digestLease is how long a digest claim holds before another replica may
// take over a send its claimant never finished (it died mid-send).
const digestLease = 5 * time.Minute

// digestRecheck is how long a digest found sent (its claims refused) is
// left alone before the store is asked again: a refused claim may also be
// another replica's send in progress, which could still fail.
const digestRecheck = time.Minute

// digestState is what the digest loop keeps in memory between engine
// passes, so that an idle gateway does not ask the store on every pass:
// the database's epoch (fixed once written), the time zone, and per period
// the digest time whose sends are settled and until when.
type digestState struct {
	mu      sync.Mutex
	epoch   time.Time // zero until read
	zone    string
	loc     *time.Location
	settled map[string]settledDigest
}

// settledDigest is a period's digest whose every send was done or claimed
// at the last look; the period is skipped until its next digest time, or
// until recheck.
type settledDigest struct {
	at, recheck time.Time
}

// location returns the configured zone, loaded once per name.
func (s *digestState) location(name string) (*time.Location, error) {
	if s.loc != nil && s.zone == name {
		return s.loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("digests.time_zone: %w", err)
	}
	s.zone, s.loc = name, loc
	return loc, nil
}

// digestPeriods in the order they are sent.
var digestPeriods = []string{config.DigestDaily, config.DigestWeekly, config.DigestMonthly}

// lastDigestIn returns the latest scheduled time of a digest period at or
// before now, in the zone loc, and the start of the period it covers.
// Times are built with time.Date in the zone, so they stay at the
// configured wall-clock time across daylight-saving changes.
func lastDigestIn(period string, d config.Digests, loc *time.Location, now time.Time) (at, from time.Time, err error) {
	h, m := 9, 0
	if d.At != "" {
		if h, m, err = config.ParseClock(d.At); err != nil {
			return at, from, fmt.Errorf("digests.at: %w", err)
		}
	}
	local := now.In(loc)
	y, mo, day := local.Date()
	switch period {
	case config.DigestDaily:
		at = time.Date(y, mo, day, h, m, 0, 0, loc)
		if at.After(now) {
			at = time.Date(y, mo, day-1, h, m, 0, 0, loc)
		}
		ay, amo, ad := at.Date()
		from = time.Date(ay, amo, ad-1, h, m, 0, 0, loc)
	case config.DigestWeekly:
		wd := time.Monday
		if d.Weekday != "" {
			if wd, err = config.ParseWeekday(d.Weekday); err != nil {
				return at, from, fmt.Errorf("digests.weekday: %w", err)
			}
		}
		back := (int(local.Weekday()) - int(wd) + 7) % 7
		at = time.Date(y, mo, day-back, h, m, 0, 0, loc)
		if at.After(now) {
			at = time.Date(y, mo, day-back-7, h, m, 0, 0, loc)
		}
		ay, amo, ad := at.Date()
		from = time.Date(ay, amo, ad-7, h, m, 0, 0, loc)
	case config.DigestMonthly:
		md := d.MonthDay
		if md <= 0 {
			md = 1
		}
		at = time.Date(y, mo, md, h, m, 0, 0, loc)
		if at.After(now) {
			at = time.Date(y, mo-1, md, h, m, 0, 0, loc)
		}
		ay, amo, _ := at.Date()
		from = time.Date(ay, amo-1, md, h, m, 0, 0, loc)
	default:
		return at, from, fmt.Errorf("unknown digest period %q", period)
	}
	return at, from, nil
}

// digestSeverities returns, per role, the severities whose matrix cell for
// that role is the given digest period.
func digestSeverities(cfg *config.Config, period string) map[string][]alert.Severity {
	out := map[string][]alert.Severity{}
	for _, row := range cfg.Escalation.Matrix {
		for _, sev := range alert.Severities {
			if row.Cell(sev).Digest == period {
				out[row.Role] = append(out[row.Role], sev)
			}
		}
	}
	return out
}

// runDigests sends every digest that fell due and was not sent yet: one
// message per role and period, listing the incidents of the severities
// whose cell for that role is that period. Each (role, period, date,
// target) is claimed in the database first, so it is sent once across
// restarts and replicas; a digest whose time passed while the gateway was
// down is sent when it comes back, once. Digests never cover time before
// the database first served.
//
// Between digest times a pass costs no store round trip: the epoch is
// read once, and a period whose current digest was sent (or found claimed)
// is skipped until its next digest time, or for digestRecheck when a
// claim was refused (it may be another replica's send still in progress).
func (e *Engine) runDigests(ctx context.Context) error {
	if e.digests == nil || !e.digests.Leader() {
		return nil
	}
	e.dg.mu.Lock()
	defer e.dg.mu.Unlock()
	r := e.current()
	now := e.now()
	if e.dg.epoch.IsZero() {
		epoch, err := e.digests.Epoch(ctx)
		if err != nil {
			return err
		}
		e.dg.epoch = epoch
	}
	loc := time.UTC
	if z := r.cfg.Escalation.Digests.TimeZone; z != "" {
		var err error
		if loc, err = e.dg.location(z); err != nil {
			return err
		}
	}
	for _, period := range digestPeriods {
		at, from, err := lastDigestIn(period, r.cfg.Escalation.Digests, loc, now)
		if err != nil {
			return err
		}
		if !at.After(e.dg.epoch) {
			continue
		}
		if s, ok := e.dg.settled[period]; ok && s.at.Equal(at) && now.Before(s.recheck) {
			continue
		}
		bySev := digestSeverities(r.cfg, period)
		roles := make([]string, 0, len(bySev))
		for role := range bySev {
			roles = append(roles, role)
		}
		sort.Strings(roles)
		settled := true
		for _, role := range roles {
			if err := e.sendDigest(ctx, r, role, period, bySev[role], from, at); err != nil {
				settled = false
				e.log.Warn("digest", zap.String("role", role), zap.String("period", period), zap.Error(err))
			}
		}
		if settled {
			if e.dg.settled == nil {
				e.dg.settled = map[string]settledDigest{}
			}
			e.dg.settled[period] = settledDigest{at: at, recheck: now.Add(digestRecheck)}
		}
	}
	return nil
}

func (e *Engine) sendDigest(ctx context.Context, r *routing, role, period string, sevs []alert.Severity, from, at time.Time) error {
	var msg *notify.Message
	for _, tn := range dedupe(r.cfg.Roles[role].Targets) {
		key := fmt.Sprintf("digest/%s/%s/%s/%s", role, period, at.UTC().Format(time.RFC3339), tn)
		ok, err := e.digests.ClaimFor(ctx, key, digestLease)
		if err != nil || !ok {
			return err
		}
		if msg == nil {
			incs, err := e.digests.DigestIncidents(ctx, sevs, from, at)
			if err != nil {
				_ = e.digests.Unclaim(context.WithoutCancel(ctx), key)
				return err
			}
			msg = e.digestMessage(r.cfg, role, period, sevs, incs, from, at)
		}
		m := *msg
		m.IdempotencyKey = key
		t, ok := r.targets[tn]
		if !ok {
			continue
		}
		if err := t.send(ctx, &m); err != nil {
			// Tried again at the next pass (the breaker paces it).
			e.m.deliveries.WithLabelValues(t.name, t.typ, "retry", notify.AsDeliveryError(err).Reason).Inc()
			if uerr := e.digests.Unclaim(context.WithoutCancel(ctx), key); uerr != nil {
				e.log.Error("release digest claim", zap.String("key", key), zap.Error(uerr))
			}
			return fmt.Errorf("target %s: %w", tn, err)
		}
		e.m.deliveries.WithLabelValues(t.name, t.typ, "ok", "").Inc()
		if err := e.digests.Done(context.WithoutCancel(ctx), key); err != nil {
			// Sent; if the mark is lost it may be sent again after the
			// lease, with the same idempotency key.
			e.log.Warn("mark digest sent", zap.String("key", key), zap.Error(err))
		}
		e.log.Info("digest sent", zap.String("role", role), zap.String("period", period), zap.String("target", tn), zap.Int("incidents", len(msg.Alerts)))
	}
	return nil
}

func (e *Engine) digestMessage(cfg *config.Config, role, period string, sevs []alert.Severity, incs []alert.Incident, from, to time.Time) *notify.Message {
	names := map[string]string{config.DigestDaily: "Daily", config.DigestWeekly: "Weekly", config.DigestMonthly: "Monthly"}
	var sevNames []string
	for _, s := range sevs {
		sevNames = append(sevNames, s.String())
	}
	title := fmt.Sprintf("%s digest for %s: %d %s incident(s)", names[period], role, len(incs), strings.Join(sevNames, "/"))
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s to %s.\n", title, from.Format("2006-01-02 15:04 MST"), to.Format("2006-01-02 15:04 MST"))
	if len(incs) == 0 {
		fmt.Fprintf(&b, "No %s incidents in this period.\n", strings.Join(sevNames, "/"))
	}
	base := strings.TrimRight(cfg.Server.ExternalURL, "/")
	for _, inc := range incs {
		fmt.Fprintf(&b, "- %s [%s] %s — %s; opened %s", inc.Key, inc.Severity, inc.Title, inc.Status, inc.OpenedAt.Format(time.RFC3339))
		if !inc.AcknowledgedAt.IsZero() {
			fmt.Fprintf(&b, ", acknowledged %s by %s", inc.AcknowledgedAt.Format(time.RFC3339), inc.AcknowledgedBy)
		}
		if !inc.ResolvedAt.IsZero() {
			fmt.Fprintf(&b, ", resolved %s", inc.ResolvedAt.Format(time.RFC3339))
		}
		fmt.Fprintf(&b, "; response SLA %s, resolution SLA %s\n", slaVerdict(inc.AckDue, inc.AcknowledgedAt, to), slaVerdict(inc.ResolveDue, inc.ResolvedAt, to))
	}
	worst := alert.P3
	for _, s := range sevs {
		worst = min(worst, s)
	}
	m := &notify.Message{
		Kind: notify.KindInfo, DedupKey: "alertgate/digest", Role: role, Step: "digest:" + period, StepType: "digest",
		Incident: alert.Incident{Key: "Digest", Title: title, Severity: worst},
		Summary:  title, Text: b.String(), IncidentURL: base + "/", At: e.now().UTC(),
	}
	for _, inc := range incs {
		m.Alerts = append(m.Alerts, notify.AlertSummary{Fingerprint: inc.Key, Status: alert.StatusFiring, Title: inc.Title, StartsAt: inc.OpenedAt})
	}
	return m
}

// slaVerdict says whether a deadline was met by done, as of now.
func slaVerdict(due, done, now time.Time) string {
	switch {
	case !done.IsZero() && !done.After(due):
		return "met"
	case !done.IsZero():
		return "missed"
	case now.After(due):
		return "missed"
	}
	return "pending"
}
