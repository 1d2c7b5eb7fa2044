package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/rules"
)

// classifier groups by alertname+service and maps the severity label.
type classifier struct{}

func (classifier) Evaluate(a *alert.Alert) rules.Decision {
	sev := alert.P2
	if a.Labels["severity"] == "critical" {
		sev = alert.P0
	}
	return rules.Decision{Severity: sev, GroupKey: rules.GroupKey(a, []string{"alertname", "service"}), Rule: "test"}
}

// Suppress silences alerts labelled silence="yes" (the suppression logic
// itself is tested in rules; here the store's handling of it is).
func (classifier) Suppress(a *alert.Alert, _ *rules.Decision, _ time.Time, _ []rules.Silence, _ []rules.InhibitSource) (rules.Suppression, bool) {
	if a.Labels["silence"] == "yes" {
		return rules.Suppression{Kind: rules.KindSilence, ID: "test"}, true
	}
	return rules.Suppression{}, false
}

func (classifier) Silences() []rules.Silence { return nil }

func (classifier) CanInhibit(*rules.InhibitSource) bool { return false }

func (c classifier) Matched(a *alert.Alert) rules.Decision {
	d := c.Evaluate(a)
	d.Matched = []string{d.Rule}
	return d
}

// planner plans one step per change, like the router does.
type planner struct{}

func (planner) Deadlines(alert.Severity) (time.Duration, time.Duration) {
	return 15 * time.Minute, time.Hour
}
func (planner) Plan(c Change, inc *alert.Incident, _ PlanOptions) []JobSpec {
	switch c {
	case ChangeOpened:
		return []JobSpec{
			{Key: inc.Key + "/page/oncall#0", Kind: KindStep, DueAt: inc.OpenedAt, StopOn: alert.IncidentAcknowledged},
			{Key: inc.Key + "/page/cto#0", Kind: KindStep, DueAt: inc.OpenedAt.Add(time.Hour), StopOn: alert.IncidentResolved},
		}
	case ChangeResolved:
		return []JobSpec{{Key: inc.Key + "/resolve", Kind: KindStep, DueAt: inc.ResolvedAt}}
	}
	return nil
}

func newClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
}

func firing(name, svc, fp string) alert.Alert {
	return alert.Alert{Source: "am", SourceType: "alertmanager", Status: alert.StatusFiring, Fingerprint: fp,
		Labels: map[string]string{"alertname": name, "service": svc, "severity": "critical"}, Title: name, Service: svc}
}

func resolved(a alert.Alert) alert.Alert {
	a.Status = alert.StatusResolved
	a.EndsAt = time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC)
	return a
}

func jobStates(t *testing.T, s *Store, inc int64) map[string]string {
	t.Helper()
	jobs, err := s.Jobs(context.Background(), inc)
	require.NoError(t, err)
	out := map[string]string{}
	for _, j := range jobs {
		out[j.Key] = j.State
	}
	// The steps of a chain not written yet share its row's fate: pending
	// with it, cancelled with it (what an acknowledgement leaves of a
	// cancelled chain is a row of its own).
	for _, j := range jobs {
		for _, l := range j.Later {
			if _, ok := out[l.Key]; !ok {
				out[l.Key] = j.State
			}
		}
	}
	return out
}

func TestIngestOpensIncidentAndPlansWork(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		res, err := s.Ingest(ctx, []alert.Alert{firing("HighErrorRate", "checkout", "aaa")})
		require.NoError(t, err)
		require.Equal(t, IngestResult{Alerts: 1, Incidents: []string{"INC-1"}}, res)

		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentTriggered, d.Incident.Status)
		require.Equal(t, alert.P0, d.Incident.Severity)
		require.Equal(t, "checkout", d.Incident.Service)
		require.Equal(t, 1, d.Incident.AlertCount)
		require.Equal(t, newClock().Now().Add(15*time.Minute), d.Incident.AckDue)
		require.Len(t, d.Alerts, 1)
		require.Equal(t, "aaa", d.Alerts[0].Fingerprint)
		require.Equal(t, []alert.EventKind{alert.EventDetected, alert.EventClassified}, kinds(d.Timeline))
		require.Equal(t, map[string]string{"INC-1/page/oncall#0": JobPending, "INC-1/page/cto#0": JobPending}, jobStates(t, s, 1))
	})
}

func kinds(evs []alert.Event) []alert.EventKind {
	var out []alert.EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestRepeatIsUnchangedAndWritesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		a := firing("HighErrorRate", "checkout", "aaa")
		_, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		for range 3 {
			res, err := s.Ingest(ctx, []alert.Alert{a})
			require.NoError(t, err)
			require.Equal(t, 1, res.Unchanged)
			require.Equal(t, []string{"INC-1"}, res.Incidents)
		}
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Len(t, d.Timeline, 2, "repeats add nothing to the timeline")

		// A changed annotation is written, still the same incident.
		a.Annotations = map[string]string{"summary": "now worse"}
		res, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Equal(t, 0, res.Unchanged)
		require.Equal(t, []string{"INC-1"}, res.Incidents)
		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, "now worse", d.Alerts[0].Annotations["summary"])
		require.Equal(t, 1, d.Alerts[0].Repeats)
	})
}

func TestGroupingAndResolve(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		a1, a2 := firing("HighErrorRate", "checkout", "a1"), firing("HighErrorRate", "checkout", "a2")
		other := firing("HighErrorRate", "search", "b1")
		res, err := s.Ingest(ctx, []alert.Alert{a1, a2, other})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1", "INC-2"}, res.Incidents)

		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, 2, d.Incident.AlertCount)
		require.Equal(t, 2, d.Incident.FiringCount)

		_, err = s.Ingest(ctx, []alert.Alert{resolved(a1)})
		require.NoError(t, err)
		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentTriggered, d.Incident.Status, "one alert still fires")

		_, err = s.Ingest(ctx, []alert.Alert{resolved(a2)})
		require.NoError(t, err)
		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentResolved, d.Incident.Status)
		require.Equal(t, "source:am", d.Incident.ResolvedBy)
		require.Equal(t, map[string]string{
			"INC-1/page/oncall#0": JobCancelled, "INC-1/page/cto#0": JobCancelled, "INC-1/resolve": JobPending,
		}, jobStates(t, s, 1))

		// Resolving again changes nothing; the other incident is untouched.
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a2)})
		require.NoError(t, err)
		d2, err := s.GetIncident(ctx, 2)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentTriggered, d2.Incident.Status)

		// The group firing again after resolution opens a new incident.
		res, err = s.Ingest(ctx, []alert.Alert{a1})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-3"}, res.Incidents)
	})
}

func TestResolvedUnknownAlertIsRecordedNotAnError(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		res, err := s.Ingest(ctx, []alert.Alert{resolved(firing("Gone", "x", "zzz"))})
		require.NoError(t, err)
		require.Empty(t, res.Incidents)
		var n int
		require.NoError(t, s.r.QueryRow(`SELECT COUNT(*) FROM alerts WHERE fingerprint = 'zzz' AND status = 'resolved' AND incident_id IS NULL`).Scan(&n))
		require.Equal(t, 1, n)
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Empty(t, list)
	})
}

func TestAcknowledgeCancelsOnlyStepsThatStopOnAck(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		_, err := s.Ingest(ctx, []alert.Alert{firing("HighErrorRate", "checkout", "a1")})
		require.NoError(t, err)

		inc, err := s.Acknowledge(ctx, 1, "alice", "looking")
		require.NoError(t, err)
		require.Equal(t, alert.IncidentAcknowledged, inc.Status)
		require.Equal(t, "alice", inc.AcknowledgedBy)
		require.Equal(t, map[string]string{"INC-1/page/oncall#0": JobCancelled, "INC-1/page/cto#0": JobPending}, jobStates(t, s, 1))

		_, err = s.Acknowledge(ctx, 1, "bob", "")
		require.NoError(t, err, "a second ack is harmless")
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, "alice", d.Incident.AcknowledgedBy)

		_, err = s.Resolve(ctx, 1, "alice", "fixed")
		require.NoError(t, err)
		_, err = s.Acknowledge(ctx, 1, "bob", "")
		require.ErrorIs(t, err, ErrConflict)
		_, err = s.Acknowledge(ctx, 99, "bob", "")
		require.ErrorIs(t, err, ErrNotFound)
	})
}

// What acknowledging and resolving return is the incident as stored: the
// times at the store's millisecond precision and updated_at moved along.
func TestAcknowledgeAndResolveReturnTheStoredIncident(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clock := newClock()
		clock.Advance(123456789 * time.Nanosecond)
		s := db.openTest(t, clock)
		_, err := s.Ingest(ctx, []alert.Alert{firing("HighErrorRate", "checkout", "a1")})
		require.NoError(t, err)

		clock.Advance(time.Minute + 500*time.Microsecond)
		acked, err := s.Acknowledge(ctx, 1, "alice", "looking")
		require.NoError(t, err)
		stored, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, stored.Incident, *acked)
		require.Equal(t, time.Date(2026, 11, 27, 10, 1, 0, 123e6, time.UTC), acked.UpdatedAt)

		clock.Advance(time.Minute + 700*time.Microsecond)
		res, err := s.Resolve(ctx, 1, "alice", "fixed")
		require.NoError(t, err)
		stored, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, stored.Incident, *res)
		require.Equal(t, time.Date(2026, 11, 27, 10, 2, 0, 124e6, time.UTC), res.UpdatedAt)
	})
}

func TestConcurrentIngestGroupsIntoOneIncident(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		var wg sync.WaitGroup
		const n = 64
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := firing("Storm", "api", fmt.Sprintf("fp-%d", i))
				// Every alert twice, concurrently with the others.
				_, err := s.Ingest(ctx, []alert.Alert{a, a})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, n, list[0].AlertCount)
		require.Equal(t, n, list[0].FiringCount)
	})
}

func TestStateSurvivesReopen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		a := firing("HighErrorRate", "checkout", "a1")
		_, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "Close is idempotent")

		s2 := db.openTest(t, clk)
		res, err := s2.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.Equal(t, 1, res.Unchanged, "the repeat cache is rebuilt from the database")
		next, ok, err := s2.NextDueAfter(ctx, time.Time{})
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, clk.Now(), next)
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		_, err := s.w.Exec(`UPDATE schema_version SET version = 999`)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		s, err = db.open(ctx, Options{Classifier: classifier{}, Planner: planner{}})
		if s != nil {
			s.Close()
		}
		require.ErrorIs(t, err, ErrSchemaNewer)
		require.ErrorContains(t, err, "newer than this binary")
	})
}

func TestStepsAndDeliveries(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		_, err := s.Ingest(ctx, []alert.Alert{firing("HighErrorRate", "checkout", "a1")})
		require.NoError(t, err)

		var ran []string
		step := func(tx *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
			ran = append(ran, j.Key)
			return StepOutcome{Jobs: []JobSpec{{Key: j.Key + "/sink", Kind: KindDelivery, DueAt: clk.Now(), StopOn: j.StopOn, Target: "sink", Action: "page"}}}, nil
		}
		n, err := s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, []string{"INC-1/page/oncall#0"}, ran)

		jobs, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.Equal(t, 1, jobs[0].Attempts)
		again, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Empty(t, again, "a leased delivery is not claimed twice")

		// The worker died: after the lease the delivery is claimed again.
		clk.Advance(2 * time.Minute)
		jobs, err = s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.Equal(t, 2, jobs[0].Attempts)

		require.NoError(t, s.FinishDelivery(ctx, jobs[0], DeliveryResult{State: JobPending, RetryAt: clk.Now().Add(time.Second), Error: "503",
			EventKind: alert.EventDeliveryFail, EventDetail: "sink: 503"}))
		jobs, err = s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Empty(t, jobs, "not due before RetryAt")
		clk.Advance(time.Second)
		jobs, err = s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.NoError(t, s.FinishDelivery(ctx, jobs[0], DeliveryResult{State: JobDone, EventKind: alert.EventNotified, EventDetail: "sink: ok"}))
		require.Equal(t, JobDone, jobStates(t, s, 1)["INC-1/page/oncall#0/sink"])

		err = s.withTx(ctx, func(tx *Tx) error {
			got, err := tx.PagedTargets(1)
			require.Equal(t, []string{"sink"}, got)
			return err
		})
		require.NoError(t, err)
	})
}

// The whole lifecycle on each engine: ingest, grouping, repeats, steps,
// claims (FOR UPDATE SKIP LOCKED on PostgreSQL), ack, resolve, claims of
// singleton work, secrets.
func TestLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)

		a1, a2 := firing("HighErrorRate", "checkout", "a1"), firing("HighErrorRate", "checkout", "a2")
		res, err := s.Ingest(ctx, []alert.Alert{a1, a2})
		require.NoError(t, err)
		require.Equal(t, []string{"INC-1"}, res.Incidents)
		res, err = s.Ingest(ctx, []alert.Alert{a1})
		require.NoError(t, err)
		require.Equal(t, 1, res.Unchanged)

		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, 2, d.Incident.AlertCount)

		n, err := s.RunSteps(ctx, clk.Now(), 10, func(tx *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
			return StepOutcome{Jobs: []JobSpec{{Key: j.Key + "/sink", Kind: KindDelivery, DueAt: clk.Now(), Target: "sink", Action: "page"}}}, nil
		})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		jobs, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.NoError(t, s.FinishDelivery(ctx, jobs[0], DeliveryResult{State: JobDone, EventKind: alert.EventNotified, EventDetail: "ok", Ref: "r1"}))
		ref, err := s.TargetRef(ctx, 1, "sink")
		require.NoError(t, err)
		require.Equal(t, "r1", ref)

		_, err = s.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)
		_, err = s.Ingest(ctx, []alert.Alert{resolved(a1), resolved(a2)})
		require.NoError(t, err)
		d, err = s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentResolved, d.Incident.Status)

		next, ok, err := s.NextDueAfter(ctx, time.Time{})
		require.NoError(t, err)
		require.True(t, ok)
		require.False(t, next.IsZero())
		ok, err = s.Claim(ctx, "digest/x")
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s.Claim(ctx, "digest/x")
		require.NoError(t, err)
		require.False(t, ok)
		key, err := s.Secret(ctx, "k")
		require.NoError(t, err)
		require.Len(t, key, 32)
	})
}

// After a restart, an alert stored before it is found again: its
// resolution resolves its incident rather than being taken for a new alert.
func TestRestartFindsStoredAlerts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		a := firing("HighErrorRate", "checkout", "a1")
		_, err := s.Ingest(ctx, []alert.Alert{a})
		require.NoError(t, err)
		require.NoError(t, s.Close())

		s2 := db.openTest(t, clk)
		if !db.postgres() {
			// SQLite only: the known-keys filter (nil on PostgreSQL, where
			// other replicas insert alerts this process never sees) is
			// rebuilt from the database, else the lookup would be skipped.
			require.True(t, s2.known.has(alertKey{a.Source, a.Fingerprint}))
			require.False(t, s2.known.has(alertKey{a.Source, "never-stored"}))
		}
		_, err = s2.Ingest(ctx, []alert.Alert{resolved(a)})
		require.NoError(t, err)
		d, err := s2.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, alert.IncidentResolved, d.Incident.Status)
		require.Len(t, d.Alerts, 1)
		require.Equal(t, alert.StatusResolved, d.Alerts[0].Status)
	})
}

func TestContentHash(t *testing.T) {
	a := firing("A", "s", "f")
	a.Annotations = map[string]string{"summary": "x", "description": "y"}
	b := firing("A", "s", "f")
	b.Annotations = map[string]string{"description": "y", "summary": "x"}
	require.Equal(t, contentHash(&a), contentHash(&b), "map order does not matter")
	for name, change := range map[string]func(*alert.Alert){
		"label value":   func(x *alert.Alert) { x.Labels["service"] = "t" },
		"label moved":   func(x *alert.Alert) { x.Annotations["service"] = x.Labels["service"]; delete(x.Labels, "service") },
		"annotation":    func(x *alert.Alert) { x.Annotations["summary"] = "z" },
		"status":        func(x *alert.Alert) { x.Status = alert.StatusResolved },
		"title split":   func(x *alert.Alert) { x.Title, x.Description = "", "A" },
		"starts at":     func(x *alert.Alert) { x.StartsAt = x.StartsAt.Add(time.Second) },
		"ends at":       func(x *alert.Alert) { x.EndsAt = time.Unix(1, 0) },
		"impact":        func(x *alert.Alert) { x.Impact.AffectedUsersPct = 60 },
		"extra label":   func(x *alert.Alert) { x.Labels["instance"] = "" },
		"generator url": func(x *alert.Alert) { x.GeneratorURL = "http://x" },
	} {
		c := firing("A", "s", "f")
		c.Annotations = map[string]string{"summary": "x", "description": "y"}
		change(&c)
		require.NotEqual(t, contentHash(&a), contentHash(&c), name)
	}
}

func TestSecretIsGeneratedOnceAndKept(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		a, err := s.Secret(ctx, "ack_link_key")
		require.NoError(t, err)
		require.Len(t, a, 32)
		b, err := s.Secret(ctx, "ack_link_key")
		require.NoError(t, err)
		require.Equal(t, a, b)
		other, err := s.Secret(ctx, "other")
		require.NoError(t, err)
		require.NotEqual(t, a, other)
		require.NoError(t, s.Close())
		s2 := db.openTest(t, clk)
		c, err := s2.Secret(ctx, "ack_link_key")
		require.NoError(t, err)
		require.Equal(t, a, c, "survives a restart")
	})
}

// OnCommit hooks (the router's step metrics and logs) run once per
// committed transaction: never for a rolled-back one, and once when a
// transaction that lost a race with another replica ran again.
func TestOnCommitRunsOncePerCommit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		var ran int
		hook := func() { ran++ }

		require.NoError(t, s.withTx(ctx, func(tx *Tx) error { tx.OnCommit(hook); return nil }))
		require.Equal(t, 1, ran, "committed")

		boom := errors.New("boom")
		require.ErrorIs(t, s.withTx(ctx, func(tx *Tx) error { tx.OnCommit(hook); return boom }), boom)
		require.Equal(t, 1, ran, "rolled back: not run")

		// The first attempt loses a race (serialization failure).
		tries := 0
		err := s.withTx(ctx, func(tx *Tx) error {
			tries++
			tx.OnCommit(hook)
			if tries == 1 {
				return &pgconn.PgError{Code: "40001"}
			}
			return nil
		})
		if db.postgres() {
			require.NoError(t, err)
			require.Equal(t, 2, tries, "run again")
			require.Equal(t, 2, ran, "the hook of the lost attempt is not run")
		} else {
			// One writer, no races: not run again, and not run.
			require.Error(t, err)
			require.Equal(t, 1, tries)
			require.Equal(t, 1, ran)
		}
	})
}
