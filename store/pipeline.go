package store

// Pipelined writes (PostgreSQL). Each statement of a write transaction
// is a network round trip to the server, and the writer is one
// connection: at a dozen statements per new incident the incident storm
// waited on the network, not on work. Writes whose result nobody reads
// (Tx.write: inserts of timeline entries, alerts and jobs, count updates)
// are queued instead and sent together as one pipeline (pgx.Batch) just
// before the transaction's next read, or before it commits; their errors
// surface there, wrapped as they would have been. On SQLite a write runs
// at once: it is a function call, not a round trip.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// queuedWrite is a statement waiting for the next flush.
type queuedWrite struct {
	q    string // as written, with ? placeholders
	args []any
	what string // what failed, for the error: "append event"
	// affected, when set, is told how many rows the statement changed.
	affected func(n int64)
	// row, when set, reads the row the statement returns; the statement
	// returning none (INSERT … ON CONFLICT DO NOTHING RETURNING) is not an
	// error.
	row func(r scanner) error
}

// maxQueued bounds the statements one pipeline carries (and the memory
// their arguments hold).
const maxQueued = 512

// begin starts a write transaction on the writer. On PostgreSQL it holds
// the connection too, for pipelined writes; end gives it back.
func (s *Store) begin(ctx context.Context) (*Tx, error) {
	s.writeTxs.Add(1)
	t := &Tx{s: s, ctx: ctx, pol: s.Policy()}
	if !s.d.pipeline {
		t.steady = context.WithoutCancel(ctx)
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		t.tx = tx
		return t, nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.tx, t.conn = tx, conn
	return t, nil
}

// commit sends the queued writes and commits.
func (t *Tx) commit() error {
	defer t.end()
	if err := t.flush(); err != nil {
		t.tx.Rollback()
		t.undone()
		return err
	}
	if err := t.tx.Commit(); err != nil {
		t.undone()
		return err
	}
	t.undo = nil
	return nil
}

// rollback drops the queued writes and rolls back.
func (t *Tx) rollback() {
	defer t.end()
	t.queued = nil
	t.tx.Rollback()
	t.undone()
}

// undone runs, once, what OnRollback asked for.
func (t *Tx) undone() {
	undo := t.undo
	t.undo = nil
	for _, f := range undo {
		f()
	}
}

func (t *Tx) end() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// write runs a statement whose result is not read: at once on SQLite,
// queued for the next pipeline on PostgreSQL. what names it in an error.
func (t *Tx) write(what, q string, args ...any) error {
	if t.conn == nil {
		if _, err := t.exec(t.ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	return t.enqueue(queuedWrite{q: q, args: args, what: what})
}

// queueCounted queues, on PostgreSQL, a write whose count of changed
// rows matters: affected is told it when the queue is flushed.
func (t *Tx) queueCounted(what, q string, affected func(n int64), args ...any) error {
	if t.conn == nil {
		return fmt.Errorf("%s: queued writes are PostgreSQL's", what)
	}
	return t.enqueue(queuedWrite{q: q, args: args, what: what, affected: affected})
}

// writeReturning runs a write that returns a row, or none when it wrote
// none: row reads it, if there is one, at once on SQLite, at the next
// flush on PostgreSQL.
func (t *Tx) writeReturning(what, q string, row func(r scanner) error, args ...any) error {
	if t.conn == nil {
		if err := row(t.queryRow(t.ctx, q, args...)); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	return t.enqueue(queuedWrite{q: q, args: args, what: what, row: row})
}

// enqueue adds a write to the next pipeline, sent at once when the queue
// is full.
func (t *Tx) enqueue(w queuedWrite) error {
	t.s.stmtsRun.Add(1)
	t.queued = append(t.queued, w)
	if len(t.queued) >= maxQueued {
		return t.flush()
	}
	return nil
}

// flush sends the queued writes as one pipeline on the transaction's
// connection and reads their results; the first error is returned (the
// server has then aborted the transaction).
func (t *Tx) flush() error {
	if len(t.queued) == 0 {
		return nil
	}
	queued := t.queued
	t.queued = nil
	err := t.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("pipelined writes need the pgx driver")
		}
		b := &pgx.Batch{}
		for _, w := range queued {
			b.Queue(t.s.d.rebound(w.q), w.args...)
		}
		br := sc.Conn().SendBatch(t.ctx, b)
		for _, w := range queued {
			if w.row != nil {
				if err := w.row(br.QueryRow()); err != nil && !errors.Is(err, pgx.ErrNoRows) {
					br.Close()
					return fmt.Errorf("%s: %w", w.what, err)
				}
				continue
			}
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return fmt.Errorf("%s: %w", w.what, err)
			}
			if w.affected != nil {
				w.affected(tag.RowsAffected())
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("pipelined writes: %w", err)
		}
		return nil
	})
	return err
}

// rebound caches dialect.rebind for the pipelined statements (pgx keys
// its prepared statements by the text).
var rebound sync.Map

func (d dialect) rebound(q string) string {
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	r := d.rebind(q)
	rebound.Store(q, r)
	return r
}
