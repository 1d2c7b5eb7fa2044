package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// The migrations are the files in migrations/, embedded in the binary
// (see loadMigrations for their names and store/doc.go for how to add
// one). They are applied in order; each runs once, in its own transaction.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema version: the SQL each engine runs to reach it.
type migration struct {
	version int
	name    string
	// sql holds the statements per engine (dialect.name).
	sql map[string]string
}

// migrationEngines are the engines every migration has SQL for.
var migrationEngines = []string{sqliteDialect.name, postgresDialect.name}

var migrations = mustLoadMigrations(migrationFiles)

func mustLoadMigrations(fsys fs.FS) []migration {
	m, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return m
}

// loadMigrations reads the migrations in fsys's migrations/ directory.
// A file is named NNNN_name.sql when both engines run the same SQL, or
// NNNN_name.sqlite.sql and NNNN_name.postgres.sql (always both) when
// they differ. NNNN is the schema version a migration brings the
// database to: the versions run 1, 2, 3… with none missing or repeated.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	files, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*migration{}
	for _, path := range files {
		file := strings.TrimPrefix(path, "migrations/")
		stem := strings.TrimSuffix(file, ".sql")
		engines := migrationEngines
		for _, e := range migrationEngines {
			if s, ok := strings.CutSuffix(stem, "."+e); ok {
				stem, engines = s, []string{e}
			}
		}
		num, name, ok := strings.Cut(stem, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || v < 1 || name == "" || strings.Contains(name, ".") {
			return nil, fmt.Errorf("migration %s: not named NNNN_name.sql, NNNN_name.sqlite.sql or NNNN_name.postgres.sql", file)
		}
		body, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, err
		}
		m := byVersion[v]
		if m == nil {
			m = &migration{version: v, name: name, sql: map[string]string{}}
			byVersion[v] = m
		}
		if m.name != name {
			return nil, fmt.Errorf("migration %s: version %d is also named %q", file, v, m.name)
		}
		for _, e := range engines {
			if _, dup := m.sql[e]; dup {
				return nil, fmt.Errorf("migration %s: version %d has SQL for %s twice", file, v, e)
			}
			m.sql[e] = string(body)
		}
	}
	out := make([]migration, len(byVersion))
	for v, m := range byVersion {
		if v > len(out) {
			return nil, fmt.Errorf("migration %04d_%s: versions run 1..%d with none missing, and this one is past the end", v, m.name, len(out))
		}
		for _, e := range migrationEngines {
			if _, ok := m.sql[e]; !ok {
				return nil, fmt.Errorf("migration %04d_%s: no SQL for %s (name the files .sqlite.sql and .postgres.sql, or use one .sql for both)", v, m.name, e)
			}
		}
		out[v-1] = *m
	}
	return out, nil
}

// SchemaVersion is the schema version this binary writes.
var SchemaVersion = len(migrations)

// migrate brings the schema up to SchemaVersion. A database with a newer
// schema than this binary knows is refused.
func (s *Store) migrate(ctx context.Context) error {
	return s.migrateTo(ctx, SchemaVersion)
}

// migrateTo brings the schema up to version target (tests stop short of
// SchemaVersion to upgrade a database of an older release).
func (s *Store) migrateTo(ctx context.Context, target int) error {
	// One connection for the whole migration: on PostgreSQL it holds a
	// session advisory lock, so replicas starting together migrate one
	// after another and the later ones find the work done.
	c, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%w: migrate: %v", ErrUnavailable, err)
	}
	defer c.Close()
	if s.d.name == "postgres" {
		// storage.statement_timeout is for the gateway's queries, not for
		// waiting on another replica's migration or building an index on a
		// large table: this connection has none until it goes back.
		if _, err := c.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
			return fmt.Errorf("%w: migrate: %v", ErrUnavailable, err)
		}
		defer func() { _, _ = c.ExecContext(context.WithoutCancel(ctx), `RESET statement_timeout`) }()
	}
	if s.d.advisory {
		if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, s.lockClass, migrationLock); err != nil {
			return fmt.Errorf("migrate: take the migration lock: %w", err)
		}
		defer func() {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, s.lockClass, migrationLock)
		}()
	}
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var v int
	err = c.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := c.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("init schema_version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read schema_version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w (version %d, this binary knows up to %d): upgrade alertgate", ErrSchemaNewer, v, SchemaVersion)
	}
	for i := v; i < target; i++ {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i].sql[s.d.name]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE schema_version SET version = ?`), i+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// ErrSchemaNewer: the database was migrated by a newer alertgate.
var ErrSchemaNewer = errors.New("the database schema is newer than this binary")

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	// name is the engine: "sqlite" or "postgres", as in the names of
	// the migration files.
	name string
	// skipLocked is appended to claim sub-selects.
	skipLocked string
	dollar     bool
	// forUpdate locks a row read in a write transaction.
	forUpdate string
	// advisory: the engine has advisory locks (migrations and ingest
	// serialize on them across replicas).
	advisory bool
	// pipeline: writes whose result is not read are sent together,
	// before the next read or the commit (pipeline.go).
	pipeline bool
}

var sqliteDialect = dialect{name: "sqlite"}

// rebind turns ? placeholders into $n for PostgreSQL.
func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
