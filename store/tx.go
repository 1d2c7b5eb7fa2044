package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
)

// Tx is a write transaction on the store. The router receives one while it
// runs escalation steps; everything it writes commits together.
type Tx struct {
	tx *sql.Tx
	// conn is the transaction's connection on PostgreSQL, where queued
	// holds the writes not sent yet (pipeline.go).
	conn   *sql.Conn
	queued []queuedWrite
	s      *Store
	ctx    context.Context
	pol    *Policy
	// steady is ctx without its cancellation, for SQLite's statements
	// (stmtCtx; set by begin).
	steady context.Context

	openedIncidents []inhibitEntry
	closedIncidents []int64
	raised          map[int64]alert.Severity
	// changed marks incidents whose status changed in this transaction.
	changed         map[int64]bool
	silencesChanged bool
	// silencesLoaded: the silences were read from the database in this
	// transaction (Suppression on PostgreSQL).
	silencesLoaded bool
	jobsAdded      bool
	// dueMoved: a chain moved on to a step already due, the earliest
	// due at movedDue (RunSteps looks again, to run the steps in due
	// order).
	dueMoved   bool
	movedDue   time.Time
	logs       []func()
	unprepared []string
	// bound holds the statements bound to this transaction (stmt).
	bound map[string]*sql.Stmt
	// written holds, for each incident this ingest batch opened, the
	// alerts the batch put in it as it stored them, in the order written
	// (Alerts reads them from here); nil for an incident whose alerts
	// the batch cannot list so (see applier.remember).
	written map[int64][]*alert.Alert
	// fresh marks the incidents opened in this transaction.
	fresh map[int64]bool
	// chainWritten marks the fresh incidents whose first chain is
	// written (insertJobs asks about the heads of any later one).
	chainWritten map[int64]bool
	// undo is what OnRollback asked for.
	undo []func()
}

func (t *Tx) markChanged(id int64) {
	if t.changed == nil {
		t.changed = map[int64]bool{}
	}
	t.changed[id] = true
}

func (t *Tx) finish() {
	if len(t.unprepared) > 0 {
		t.s.prepare(context.WithoutCancel(t.ctx), t.unprepared)
	}
	for _, e := range t.openedIncidents {
		t.s.cache.opened(e.src.IncidentID)
		t.s.open.set(e.src.IncidentID, e.groupKey, e.src)
	}
	for id, sev := range t.raised {
		t.s.open.severity(id, sev)
	}
	for _, id := range t.closedIncidents {
		t.s.cache.closed(id)
		t.s.open.remove(id)
	}
	if t.jobsAdded {
		t.s.signal()
	}
	if t.silencesChanged {
		if err := t.s.loadSilences(context.WithoutCancel(t.ctx)); err != nil {
			t.s.log.Warn("reload silences", zap.Error(err))
		}
	}
	if len(t.closedIncidents) > 0 || t.silencesChanged {
		// Alerts an incident inhibited, or a silence silenced, may page now.
		t.s.triggerReevaluate()
	}
	for _, l := range t.logs {
		l()
	}
}

// withTx runs fn in a write transaction and commits it. On a shared
// database a transaction that lost a race with another replica (deadlock,
// serialization failure, unique violation) runs again, a few times: fn
// must start from scratch on each call.
func (s *Store) withTx(ctx context.Context, fn func(t *Tx) error) error {
	for try := 1; ; try++ {
		err := s.tryTx(ctx, fn)
		if err == nil || !s.shared || try == 5 || !retryable(err) || ctx.Err() != nil {
			return err
		}
		s.log.Debug("transaction lost a race with another replica, running it again", zap.Int("try", try), zap.Error(err))
		time.Sleep(time.Duration(try) * time.Duration(1+rand.IntN(5)) * time.Millisecond)
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(t *Tx) error) error {
	t, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("%w: begin: %v", ErrUnavailable, err)
	}
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	if err := t.flush(); err != nil {
		t.rollback()
		return err
	}
	if err := t.commit(); err != nil {
		return fmt.Errorf("%w: commit: %w", ErrUnavailable, err)
	}
	t.finish()
	s.walGrew()
	return nil
}

// event appends an entry to an incident's timeline: one INSERT without
// RETURNING, as nothing reads the new row's id (eventID when something
// does).
func (t *Tx) event(inc int64, kind alert.EventKind, actor, detail string) error {
	return t.write("append event", `INSERT INTO events (incident_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)`,
		inc, ms(t.s.now()), string(kind), actor, detail)
}

// eventID appends an entry to an incident's timeline and returns its id.
func (t *Tx) eventID(inc int64, kind alert.EventKind, actor, detail string) (int64, error) {
	return t.insertID("append event", `INSERT INTO events (incident_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)`,
		inc, ms(t.s.now()), string(kind), actor, detail)
}

// insertID runs q, an INSERT of one row into a table whose id is its
// INTEGER PRIMARY KEY, and returns the new row's id: on SQLite the
// insert's rowid (LastInsertId, without RETURNING's result set), on
// PostgreSQL through RETURNING id. what names it in an error.
func (t *Tx) insertID(what, q string, args ...any) (int64, error) {
	var id int64
	var err error
	if t.conn == nil {
		var res sql.Result
		if res, err = t.exec(t.ctx, q, args...); err == nil {
			id, err = res.LastInsertId()
		}
	} else {
		err = t.queryRow(t.ctx, q+` RETURNING id`, args...).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return id, nil
}

// OnCommit runs f after the transaction commits: the metrics and logs of
// what it did. f does not run if the transaction rolls back, and runs once
// if it ran again after losing a race with another replica.
func (t *Tx) OnCommit(f func()) { t.logs = append(t.logs, f) }

// OnRollback runs f if the transaction rolls back or fails to commit
// (including each attempt withTx runs again): what was set aside for
// what it would have written is given back. A COMMIT that fails on
// PostgreSQL may still have committed (the connection dropped during
// it): a delivery claimed as written then stays claimed by this process,
// and is sent once its lease runs out.
func (t *Tx) OnRollback(f func()) { t.undo = append(t.undo, f) }

// AppendEvent adds an entry to an incident's timeline.
func (t *Tx) AppendEvent(inc int64, kind alert.EventKind, actor, detail string) error {
	return t.event(inc, kind, actor, detail)
}

// EndFlapping clears the incident's flapping mark.
func (t *Tx) EndFlapping(inc int64) error {
	if err := t.write("end flapping", `UPDATE incidents SET flapping = 0, updated_at = ? WHERE id = ?`, ms(t.s.now()), inc); err != nil {
		return err
	}
	t.markChanged(inc)
	return nil
}

// Touch moves the incident's updated_at to now without changing it
// otherwise: something shown with it changed (whom it paged), so the
// console's live board and the replicas' sync read it again.
func (t *Tx) Touch(inc int64) error {
	if t.fresh[inc] {
		// Opened in this transaction: its updated_at is this batch's
		// time, and what changed commits with the row itself.
		return nil
	}
	return t.write("touch incident", `UPDATE incidents SET updated_at = ? WHERE id = ?`, ms(t.s.now()), inc)
}

const incidentCols = `id, group_key, status, severity, title, service, category, runbook, source, alert_count, firing_count,
opened_at, acked_at, acked_by, resolved_at, resolved_by, ack_due, resolve_due, updated_at, flaps, ticket, flapping`

type scanner interface{ Scan(dest ...any) error }

func scanIncident(r scanner) (*alert.Incident, error) {
	var inc alert.Incident
	var st string
	var sev, flapping int
	var opened, acked, resolved, ackDue, resDue, updated int64
	err := r.Scan(&inc.ID, &inc.GroupKey, &st, &sev, &inc.Title, &inc.Service, &inc.Category, &inc.Runbook, &inc.Source,
		&inc.AlertCount, &inc.FiringCount, &opened, &acked, &inc.AcknowledgedBy, &resolved, &inc.ResolvedBy, &ackDue, &resDue, &updated,
		&inc.Flaps, &inc.Ticket, &flapping)
	if err != nil {
		return nil, err
	}
	inc.Key = alert.IncidentKey(inc.ID)
	inc.Status, inc.Severity, inc.Flapping = alert.IncidentStatus(st), alert.Severity(sev), flapping != 0
	inc.OpenedAt, inc.AcknowledgedAt, inc.ResolvedAt = fromMS(opened), fromMS(acked), fromMS(resolved)
	inc.AckDue, inc.ResolveDue, inc.UpdatedAt = fromMS(ackDue), fromMS(resDue), fromMS(updated)
	return &inc, nil
}

// Incident reads an incident inside the transaction.
func (t *Tx) Incident(id int64) (*alert.Incident, error) {
	return t.incident(id)
}

func (t *Tx) incident(id int64) (*alert.Incident, error) {
	// On PostgreSQL the row is locked until the transaction ends, so a step
	// and an ack (or resolve) on different replicas take turns: the later
	// one sees what the earlier one did. FOR NO KEY UPDATE, not FOR UPDATE:
	// an ingest inserting alerts that reference the incident (a foreign
	// key check, KEY SHARE) is not blocked, so steps and ingest on
	// different replicas do not deadlock.
	inc, err := scanIncident(t.queryRow(t.ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`+t.s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("incident %s: %w", alert.IncidentKey(id), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read incident: %w", err)
	}
	return inc, nil
}

// resolve marks an open incident resolved, cancels its pending work and
// plans what resolving implies.
func (t *Tx) resolve(inc *alert.Incident, actor, note string, now time.Time) error {
	t.markChanged(inc.ID)
	err := t.write("resolve incident", `UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ?, updated_at = ? WHERE id = ?`,
		ms(now), actor, ms(now), inc.ID)
	if err != nil {
		return err
	}
	inc.Status, inc.ResolvedAt, inc.ResolvedBy = alert.IncidentResolved, fromMS(ms(now)), actor
	inc.UpdatedAt = inc.ResolvedAt
	detail := "resolved"
	if note != "" {
		detail += ": " + note
	}
	if err := t.event(inc.ID, alert.EventResolved, actor, detail); err != nil {
		return err
	}
	if err := t.cancelJobs(inc.ID, string(alert.IncidentAcknowledged), string(alert.IncidentResolved)); err != nil {
		return err
	}
	if err := t.insertJobs(inc.ID, t.pol.planner.Plan(ChangeResolved, inc, PlanOptions{Base: now})); err != nil {
		return err
	}
	t.closedIncidents = append(t.closedIncidents, inc.ID)
	t.logs = append(t.logs, func() {
		t.s.log.Info("incident resolved", zap.String("incident", inc.Key), zap.String("actor", actor), zap.String("note", note))
	})
	return nil
}

func (t *Tx) acknowledge(inc *alert.Incident, actor, note string) error {
	now := t.s.now()
	t.markChanged(inc.ID)
	err := t.write("acknowledge incident", `UPDATE incidents SET status = 'acknowledged', acked_at = ?, acked_by = ?, updated_at = ? WHERE id = ?`,
		ms(now), actor, ms(now), inc.ID)
	if err != nil {
		return err
	}
	inc.Status, inc.AcknowledgedAt, inc.AcknowledgedBy = alert.IncidentAcknowledged, fromMS(ms(now)), actor
	inc.UpdatedAt = inc.AcknowledgedAt
	detail := "acknowledged"
	if note != "" {
		detail += ": " + note
	}
	if err := t.event(inc.ID, alert.EventAcknowledged, actor, detail); err != nil {
		return err
	}
	if err := t.cancelJobs(inc.ID, string(alert.IncidentAcknowledged)); err != nil {
		return err
	}
	if err := t.insertJobs(inc.ID, t.pol.planner.Plan(ChangeAcknowledged, inc, PlanOptions{Base: now})); err != nil {
		return err
	}
	t.logs = append(t.logs, func() {
		t.s.log.Info("incident acknowledged", zap.String("incident", inc.Key), zap.String("actor", actor), zap.String("note", note))
	})
	return nil
}

// stmt returns the writer's prepared statement for q, bound to this
// transaction. Parsing SQL was most of the ingest cost before statements
// were reused. A statement can't be prepared on the pool while this
// transaction holds the one writer connection, so a query seen for the
// first time is prepared on the transaction alone and, after the commit,
// on the pool for every later transaction.
func (t *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	t.s.stmtsRun.Add(1)
	if st, ok := t.bound[q]; ok {
		return st, nil
	}
	t.s.stmtMu.Lock()
	st, ok := t.s.stmts[q]
	t.s.stmtMu.Unlock()
	if ok {
		st = t.tx.StmtContext(ctx, st)
	} else {
		t.unprepared = append(t.unprepared, q)
		var err error
		if st, err = t.tx.PrepareContext(ctx, t.s.d.rebind(q)); err != nil {
			return nil, err
		}
	}
	// Bound once per transaction (database/sql closes it with the
	// transaction): a batch runs the same few statements for every
	// incident it opens.
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[q] = st
	return st, nil
}

// prepare prepares, on the pool, the queries a committed transaction used
// for the first time.
func (s *Store) prepare(ctx context.Context, qs []string) {
	for _, q := range qs {
		s.stmtMu.Lock()
		_, ok := s.stmts[q]
		s.stmtMu.Unlock()
		if ok {
			continue
		}
		st, err := s.w.PrepareContext(ctx, s.d.rebind(q))
		if err != nil {
			s.log.Warn("prepare statement", zap.Error(err))
			continue
		}
		s.stmtMu.Lock()
		if _, ok := s.stmts[q]; ok {
			st.Close()
		} else {
			s.stmts[q] = st
		}
		s.stmtMu.Unlock()
	}
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return nil, err
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return nil, err
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is QueryRowContext on a prepared statement. A preparation
// error surfaces from Scan, as with database/sql's own QueryRow.
func (t *Tx) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	ctx, err := t.stmtCtx(ctx)
	if err != nil {
		return errRow{err}
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// stmtCtx is the context one of the transaction's statements runs under.
// On SQLite a statement is not cancelled once it started: the driver
// watches a cancellable context with a goroutine and a progress handler
// set and cleared per statement, which cost the single writer more than
// most of its statements (index lookups and single-row writes, none of
// which waits on anything but the disk). No statement starts once ctx has
// ended (its error is returned instead), and the transaction's own watch
// on ctx (database/sql rolls it back when ctx ends) is kept. On
// PostgreSQL, where a statement waits on the network and on other
// sessions' locks, it stays cancellable.
func (t *Tx) stmtCtx(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.s.d.pipeline {
		return ctx, nil
	}
	if ctx == t.ctx {
		return t.steady, nil
	}
	return context.WithoutCancel(ctx), nil
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
