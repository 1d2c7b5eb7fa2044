package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the database/sql driver "pgx"
)

var postgresDialect = dialect{name: "postgres", skipLocked: " FOR UPDATE SKIP LOCKED", dollar: true, forUpdate: " FOR NO KEY UPDATE", advisory: true,
	pipeline: true}

// PostgresOptions are the pool and timeouts of a PostgreSQL store; zero
// values take the defaults.
type PostgresOptions struct {
	MaxOpenConns     int           // default 16
	MaxIdleConns     int           // default 8
	ConnMaxLifetime  time.Duration // default 30m
	StatementTimeout time.Duration // server-side, every statement; default 30s
	ConnectTimeout   time.Duration // default 10s
}

func (o PostgresOptions) withDefaults() PostgresOptions {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 16
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = min(8, o.MaxOpenConns)
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = 30 * time.Minute
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 30 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	return o
}

// OpenPostgres opens the PostgreSQL database at dsn (pgx), runs the
// migrations (serialized across replicas by an advisory lock) and starts
// the writer. Several gateways may share the database: every in-memory
// view is checked against it (see Store.shared), and periodic work runs on
// the replica holding the lease (Leader).
func OpenPostgres(ctx context.Context, dsn string, opts Options) (*Store, error) {
	po := opts.Postgres.withDefaults()
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors quote the DSN, password included.
		return nil, errors.New("postgres: the dsn is not a valid connection string or URL")
	}
	pc.ConnectTimeout = po.ConnectTimeout
	if pc.RuntimeParams == nil {
		pc.RuntimeParams = map[string]string{}
	}
	if _, set := pc.RuntimeParams["statement_timeout"]; !set {
		pc.RuntimeParams["statement_timeout"] = strconv.FormatInt(po.StatementTimeout.Milliseconds(), 10)
	}
	if _, set := pc.RuntimeParams["application_name"]; !set {
		pc.RuntimeParams["application_name"] = "alertgate"
	}
	where := fmt.Sprintf("%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
	db := stdlib.OpenDB(*pc)
	db.SetMaxOpenConns(po.MaxOpenConns)
	db.SetMaxIdleConns(po.MaxIdleConns)
	db.SetConnMaxLifetime(po.ConnMaxLifetime)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, po.ConnectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres %s is unreachable: %w", where, redact(err, pc.Password))
	}
	s := newStore(db, db, postgresDialect, opts)
	s.shared = true
	// Advisory locks are database-wide: the schema's name keys them, so
	// gateways on other schemas of the same database don't wait on these.
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres %s: %w", where, redact(err, pc.Password))
	}
	if schema == "" {
		db.Close()
		return nil, fmt.Errorf("postgres %s: no schema to work in: the search_path names no existing schema", where)
	}
	s.lockClass = lockClass(schema)
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres %s: %w", where, redact(err, pc.Password))
	}
	if err := s.loadAll(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.start(opts)
	return s, nil
}

// redact removes a password from an error's text.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "<secret>"))
}

// lockClass is the first key of this store's advisory locks.
func lockClass(schema string) int32 {
	h := fnv.New32a()
	h.Write([]byte("alertgate:" + schema))
	return int32(h.Sum32())
}

// Second keys of the advisory locks: migrations, and group buckets
// 0..groupLockBuckets-1 (lockGroups), and the ingest lock every ingest
// transaction takes shared before its buckets (a batch of more than
// maxGroupLocks buckets takes it exclusive instead).
const (
	migrationLock = -1
	groupsLock    = -2
)

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
