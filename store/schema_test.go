package store

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/schema.*.golden")

// queryRows runs q on the store's writer and returns its rows, each as
// its columns joined by " | " (NULL for a null).
func queryRows(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	r, err := s.w.QueryContext(context.Background(), s.d.rebind(q), args...)
	require.NoError(t, err)
	defer r.Close()
	cols, err := r.Columns()
	require.NoError(t, err)
	var out []string
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, r.Scan(ptrs...))
		fields := make([]string, len(vals))
		for i, v := range vals {
			fields[i] = "NULL"
			if v.Valid {
				fields[i] = v.String
			}
		}
		out = append(out, strings.Join(fields, " | "))
	}
	require.NoError(t, r.Err())
	return out
}

// schemaDump describes the schema of the store's database as text. On
// SQLite: every object's SQL as sqlite_master keeps it (the statements as
// the migrations wrote them, ALTER TABLE's columns added). On PostgreSQL:
// the columns (information_schema), the indexes (pg_indexes) and the
// constraints (pg_constraint) of the store's schema, whose name (a test's
// own) is left out. The schema version closes the dump.
func schemaDump(t *testing.T, s *Store) string {
	t.Helper()
	var lines []string
	section := func(name string, rows []string) {
		lines = append(lines, "-- "+name)
		lines = append(lines, rows...)
	}
	if s.d.advisory {
		var schema string
		require.NoError(t, s.w.QueryRow(`SELECT current_schema()`).Scan(&schema))
		section("columns", queryRows(t, s, `SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, '')
			FROM information_schema.columns WHERE table_schema = current_schema()
			ORDER BY table_name, ordinal_position`))
		indexes := queryRows(t, s, `SELECT tablename, indexname, indexdef FROM pg_indexes
			WHERE schemaname = current_schema() ORDER BY tablename, indexname`)
		for i, l := range indexes {
			indexes[i] = strings.ReplaceAll(l, " ON "+schema+".", " ON ")
		}
		section("indexes", indexes)
		section("constraints", queryRows(t, s, `SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
			ORDER BY 1, 2`))
	} else {
		section("objects", queryRows(t, s, `SELECT type, name, tbl_name, sql FROM sqlite_master
			WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`))
	}
	section("version", queryRows(t, s, `SELECT version FROM schema_version`))
	return strings.Join(lines, "\n") + "\n"
}

// A fresh database migrates to the schema in testdata/schema.<engine>.golden
// (made by `go test ./store -run TestSchemaGolden -update`, on PostgreSQL
// with ALERTGATE_TEST_POSTGRES_DSN set). A change to the migrations that
// changes the schema shows here, on both engines; one that should not
// (moving or reformatting them) must leave the files as they are.
func TestSchemaGolden(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		s := db.openTest(t, newClock())
		got := schemaDump(t, s)
		path := filepath.Join("testdata", "schema."+db.name+".golden")
		if *update {
			require.NoError(t, os.MkdirAll("testdata", 0o755))
			require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(want), got)
	})
}

// Opening a database at this binary's schema version runs no migration
// and leaves the schema as it was.
func TestSchemaReopenUnchanged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		s := db.openTest(t, newClock())
		before := schemaDump(t, s)
		require.NoError(t, s.Close())
		again := db.openTest(t, newClock())
		require.Equal(t, before, schemaDump(t, again))
	})
}

// The embedded migrations: versions 1..SchemaVersion in order, each with
// SQL for both engines; a version whose engines differ has a file per
// engine, and one that is the same for both has one file.
func TestMigrationFiles(t *testing.T) {
	require.Len(t, migrations, SchemaVersion)
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	require.NoError(t, err)
	files := map[string]bool{}
	for _, e := range entries {
		files[e.Name()] = true
	}
	for i, m := range migrations {
		require.Equal(t, i+1, m.version)
		for _, e := range migrationEngines {
			require.NotEmpty(t, strings.TrimSpace(m.sql[e]), "migration %d for %s", m.version, e)
		}
		base := fmt.Sprintf("%04d_%s", m.version, m.name)
		if m.sql[engineSQLite] == m.sql[enginePostgres] {
			require.True(t, files[base+".sql"], "%s: the same SQL for both engines is one file", base)
			continue
		}
		require.True(t, files[base+".sqlite.sql"], base)
		require.True(t, files[base+".postgres.sql"], base)
		require.False(t, files[base+".sql"], base)
	}
	require.Len(t, files, len(entries))
}

// loadMigrations refuses a set of files that would leave an engine, or a
// version, without its SQL.
func TestLoadMigrationsRefuses(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"a version missing", fstest.MapFS{
			"migrations/0001_a.sql": file("CREATE TABLE a (x INTEGER);"),
			"migrations/0003_c.sql": file("CREATE TABLE c (x INTEGER);"),
		}, "past the end"},
		{"one engine only", fstest.MapFS{
			"migrations/0001_a.sql":          file("CREATE TABLE a (x INTEGER);"),
			"migrations/0002_b.postgres.sql": file("CREATE INDEX b ON a (x);"),
		}, "no SQL for sqlite"},
		{"shared and per engine", fstest.MapFS{
			"migrations/0001_a.sql":        file("CREATE TABLE a (x INTEGER);"),
			"migrations/0001_a.sqlite.sql": file("CREATE TABLE a (x BIGINT);"),
		}, "has SQL for sqlite twice"},
		{"two names for a version", fstest.MapFS{
			"migrations/0001_a.sqlite.sql":   file("CREATE TABLE a (x INTEGER);"),
			"migrations/0001_b.postgres.sql": file("CREATE TABLE a (x INTEGER);"),
		}, `also named "a"`},
		{"no number", fstest.MapFS{
			"migrations/first.sql": file("CREATE TABLE a (x INTEGER);"),
		}, "not named NNNN_name.sql"},
		{"unknown engine", fstest.MapFS{
			"migrations/0001_a.mysql.sql": file("CREATE TABLE a (x INTEGER);"),
		}, "not named NNNN_name.sql"},
		{"version 0", fstest.MapFS{
			"migrations/0000_a.sql": file("CREATE TABLE a (x INTEGER);"),
		}, "not named NNNN_name.sql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadMigrations(tc.files)
			require.ErrorContains(t, err, tc.want)
		})
	}
	m, err := loadMigrations(fstest.MapFS{
		"migrations/0001_a.sql":          file("one"),
		"migrations/0002_b.sqlite.sql":   file("two lite"),
		"migrations/0002_b.postgres.sql": file("two pg"),
	})
	require.NoError(t, err)
	require.Equal(t, []migration{
		{version: 1, name: "a", sql: map[string]string{engineSQLite: "one", enginePostgres: "one"}},
		{version: 2, name: "b", sql: map[string]string{engineSQLite: "two lite", enginePostgres: "two pg"}},
	}, m)
}

// rawDB opens the engine's database without a store, to migrate it part
// of the way as an older release left it.
func rawDB(t *testing.T, name string) (db *sql.DB, reopen func(t *testing.T) *Store) {
	t.Helper()
	if name == enginePostgres {
		dsn := postgresDSN(t)
		db, err := sql.Open("pgx", dsn)
		require.NoError(t, err)
		return db, func(t *testing.T) *Store {
			s, err := OpenPostgres(context.Background(), dsn, testOptions(newClock()))
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		}
	}
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	return db, func(t *testing.T) *Store {
		s, err := OpenSQLite(context.Background(), path, testOptions(newClock()))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// A database an older release migrated to any earlier version upgrades
// to the schema of a fresh one, on both engines.
func TestMigrateUpgradesEveryVersion(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "schema."+e.name+".golden"))
			require.NoError(t, err)
			for from := 0; from < SchemaVersion; from++ {
				t.Run(fmt.Sprint(from), func(t *testing.T) {
					db, reopen := rawDB(t, e.name)
					old := &Store{w: db, d: sqliteDialect}
					if e.name == enginePostgres {
						old.d = postgresDialect
					}
					require.NoError(t, old.migrateTo(context.Background(), from))
					require.NoError(t, db.Close())
					require.Equal(t, string(want), schemaDump(t, reopen(t)))
				})
			}
		})
	}
}

// keyColumns turns rows "key | column" (in key order) into
// "table(c1,c2)", a key being "table" or "table:constraint name" (the
// names differ between the engines).
func keyColumns(rows []string) []string {
	var out []string
	cols := map[string][]string{}
	for _, r := range rows {
		name, col, _ := strings.Cut(r, " | ")
		if cols[name] == nil {
			out = append(out, name)
		}
		cols[name] = append(cols[name], col)
	}
	for i, name := range out {
		table, _, _ := strings.Cut(name, ":")
		out[i] = table + "(" + strings.Join(cols[name], ",") + ")"
	}
	sort.Strings(out)
	return out
}

// The SQLite and PostgreSQL migrations stay in step: migrated, both
// databases have the same tables with the same columns in the same order,
// the same primary keys and unique columns, and the same indexes but for
// the ones one engine has on purpose.
func TestMigrationsEnginesInStep(t *testing.T) {
	// Indexes only PostgreSQL has, and why.
	onlyPostgres := map[string]string{
		"incidents.incidents_updated": "migration 14: only replicas on a shared PostgreSQL database sync changed incidents",
	}
	pg := engines[1].db(t) // skips without ALERTGATE_TEST_POSTGRES_DSN
	require.Equal(t, enginePostgres, pg.name)
	ps := pg.openTest(t, newClock())
	lite := engines[0].db(t)
	require.Equal(t, engineSQLite, lite.name)
	ls := lite.openTest(t, newClock())

	require.Equal(t,
		queryRows(t, ls, `SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' ORDER BY m.name, p.cid`),
		queryRows(t, ps, `SELECT table_name || '.' || column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`),
		"tables and columns")

	require.Equal(t,
		keyColumns(queryRows(t, ls, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND p.pk > 0 ORDER BY m.name, p.pk`)),
		keyColumns(queryRows(t, ps, `SELECT c.conrelid::regclass::text, a.attname
			FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(attnum, n), pg_attribute a
			WHERE c.connamespace = current_schema()::regnamespace AND c.contype = 'p'
			AND a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY 1, k.n`)),
		"primary keys")
	require.Equal(t,
		keyColumns(queryRows(t, ls, `SELECT m.name || ':' || il.name, ii.name
			FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii
			WHERE m.type = 'table' AND il.origin = 'u' ORDER BY m.name, il.name, ii.seqno`)),
		keyColumns(queryRows(t, ps, `SELECT c.conrelid::regclass::text || ':' || c.conname, a.attname
			FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(attnum, n), pg_attribute a
			WHERE c.connamespace = current_schema()::regnamespace AND c.contype = 'u'
			AND a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY 1, k.n`)),
		"unique constraints")

	// Named indexes (CREATE INDEX): SQLite's automatic ones and
	// PostgreSQL's for keys and UNIQUE constraints are compared above.
	pgIdx := queryRows(t, ps, `SELECT tablename || '.' || indexname FROM pg_indexes
		WHERE schemaname = current_schema()
		AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE connamespace = current_schema()::regnamespace)
		ORDER BY 1`)
	var shared []string
	for _, ix := range pgIdx {
		if _, ok := onlyPostgres[ix]; !ok {
			shared = append(shared, ix)
		}
	}
	require.Len(t, shared, len(pgIdx)-len(onlyPostgres), "every index listed as PostgreSQL-only exists there")
	require.Equal(t, queryRows(t, ls, `SELECT tbl_name || '.' || name FROM sqlite_master
		WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY 1`), shared, "indexes")
}
