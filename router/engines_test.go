package router_test

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
)

// forEachEngine runs fn once per store engine ("sqlite", "postgres"), each
// subtest with a harness factory on a database of its own. The PostgreSQL
// subtest skips when ALERTGATE_TEST_POSTGRES_DSN is unset.
func forEachEngine(t *testing.T, fn func(t *testing.T, newH func(mutate func(*config.Config)) *harness)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(mutate func(*config.Config)) *harness { return newHarnessOn(t, "", mutate) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgresDSN(t)
		fn(t, func(mutate func(*config.Config)) *harness { return newHarnessOn(t, dsn, mutate) })
	})
}

// forEachDSN runs fn on SQLite ("" for dsn) and on a PostgreSQL schema of
// its own (skipped without ALERTGATE_TEST_POSTGRES_DSN).
func forEachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresDSN(t)) })
}

// postgresDSN returns ALERTGATE_TEST_POSTGRES_DSN pointed at a fresh
// schema, dropped after the test, or skips the test.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("ALERTGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PostgreSQL tests skipped: set ALERTGATE_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	schema := fmt.Sprintf("r_%d_%d", os.Getpid(), time.Now().UnixNano())
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() { db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); db.Close() })
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
