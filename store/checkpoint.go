package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// SQLite checkpoints run beside the writer, not in it. By default SQLite
// copies the WAL back into the database file inside the commit that
// crosses 1,000 pages, so every fifteenth ingest batch of a storm also
// paid for a checkpoint and its fsync while every waiting request queued
// behind it. The writer connection has wal_autocheckpoint off; this loop,
// on its own connection, runs a PASSIVE checkpoint (it never blocks the
// writer or readers) after commits, at most every checkpointEvery.
//
// A checkpoint beside a writer that keeps committing never catches up
// with it, and SQLite rewinds the WAL only when a write transaction starts
// with the whole WAL copied. So once the WAL holds walRestartFrames pages
// the writer runs one passive checkpoint itself, between two batches: it
// copies what the loop has not copied yet (little), and its next
// transaction starts the WAL from the beginning. The WAL stays bounded
// (about walRestartFrames × page size plus what a checkpointEvery of
// commits adds; journal_size_limit trims the file).
const (
	checkpointEvery  = 100 * time.Millisecond
	walRestartFrames = 16384
	walSizeLimit     = 64 << 20
)

type checkpointer struct {
	db        *sql.DB
	log       *zap.Logger
	restartAt int
	every     time.Duration
	// frames is the WAL's length in pages as the last checkpoint saw it
	// (0 once the writer has copied all of it).
	frames   atomic.Int64
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func newCheckpointer(db *sql.DB, log *zap.Logger) *checkpointer {
	return &checkpointer{db: db, log: log, restartAt: walRestartFrames, every: checkpointEvery,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// walGrew is called after every commit of a write transaction (the
// ingest writer's and withTx's, on SQLite): it rewinds a long WAL, then
// tells the checkpointer there is more to copy.
func (s *Store) walGrew() {
	c := s.ckpt
	if c == nil {
		return
	}
	if c.long() {
		c.rewind(s.w)
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	pace := time.NewTimer(0)
	defer pace.Stop()
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		if _, err := c.pass(); err != nil {
			c.log.Warn("sqlite checkpoint", zap.Error(err))
		}
		// Let a storm's commits accumulate between checkpoints, so a page
		// that many batches wrote is copied once.
		pace.Reset(c.every)
		select {
		case <-pace.C:
		case <-c.stop:
			return
		}
	}
}

// walState is what PRAGMA wal_checkpoint reports: the WAL's length in
// pages and how many of them are now in the database file.
type walState struct{ frames, copied int }

// pass runs a PASSIVE checkpoint on the checkpointer's connection.
func (c *checkpointer) pass() (walState, error) {
	st, err := c.checkpoint(c.db)
	if err == nil {
		c.frames.Store(int64(st.frames))
	}
	return st, err
}

// long reports whether the WAL has grown to the restart size.
func (c *checkpointer) long() bool { return c.frames.Load() >= int64(c.restartAt) }

// rewind is run on the writer connection, between two transactions, when
// the WAL is long: a checkpoint there copies the whole
// WAL (unless a reader still uses part of it), so the next transaction
// starts it from the beginning.
func (c *checkpointer) rewind(w *sql.DB) {
	st, err := c.checkpoint(w)
	if err != nil {
		c.log.Warn("sqlite checkpoint", zap.Error(err))
		return
	}
	c.frames.Store(int64(st.frames - st.copied))
}

// checkpoint runs a PASSIVE checkpoint on db: it copies what it can
// without waiting for the writer or readers.
func (c *checkpointer) checkpoint(db *sql.DB) (walState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy int
	var st walState
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &st.frames, &st.copied); err != nil {
		return st, fmt.Errorf("checkpoint: %w", err)
	}
	return st, nil
}

// close stops the loop (once); the caller closes db.
func (c *checkpointer) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}
