package store

import (
	"context"
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
