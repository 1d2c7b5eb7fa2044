package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

var postgresDialect = dialect{name: "postgres", serial: "BIGSERIAL PRIMARY KEY", skipLocked: " FOR UPDATE SKIP LOCKED", dollar: true}

// OpenPostgres opens the PostgreSQL database at dsn (pgx), runs the
// migrations and starts the writer. The shortcut that assumes one writer
// (the known-keys filter) is off; running several gateways on one database
// is not safe yet (start them one at a time so migrations don't race).
func OpenPostgres(ctx context.Context, dsn string, opts Options) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres is unreachable: %w", err)
	}
	s := newStore(db, db, postgresDialect, opts)
	s.shared = true
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadAll(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.start(opts)
	return s, nil
}

// retryable reports whether a transaction failed because of a concurrent
// writer and is worth running again: a unique violation (two replicas
// opening one group's incident), a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "40001", "40P01":
			return true
		}
	}
	return false
}
