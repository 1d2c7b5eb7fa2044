package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/clocktest"
)

// Engine names, as engineDB.name.
const (
	engineSQLite   = "sqlite"
	enginePostgres = "postgres"
)

// engineDB is one fresh, empty database of one engine, owned by one
// subtest: a file in the subtest's temp dir (SQLite), or a schema of its
// own, dropped at cleanup (PostgreSQL). It can be opened more than once,
// one store after another (restart tests), or at once (replica tests on
// PostgreSQL).
type engineDB struct {
	name string
	open func(ctx context.Context, opts Options) (*Store, error)
}

func (e *engineDB) postgres() bool { return e.name == enginePostgres }

// Open opens the database with opts; the store is closed when the test
// ends (closing it earlier is fine: Close is idempotent).
func (e *engineDB) Open(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := e.open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// openTest opens the database with the test classifier and planner on
// clk.
func (e *engineDB) openTest(t *testing.T, clk *clocktest.Clock) *Store {
	t.Helper()
	return e.Open(t, testOptions(clk))
}

func testOptions(clk *clocktest.Clock) Options {
	return Options{Now: clk.Now, Classifier: classifier{}, Planner: planner{}}
}

// engines make a fresh database for a subtest, or skip it.
var engines = []struct {
	name string
	db   func(t *testing.T) *engineDB
}{
	{engineSQLite, func(t *testing.T) *engineDB {
		path := filepath.Join(t.TempDir(), "test.db")
		return &engineDB{name: engineSQLite, open: func(ctx context.Context, opts Options) (*Store, error) {
			return OpenSQLite(ctx, path, opts)
		}}
	}},
	{enginePostgres, func(t *testing.T) *engineDB {
		dsn := postgresDSN(t) // skips without ALERTGATE_TEST_POSTGRES_DSN
		return &engineDB{name: enginePostgres, open: func(ctx context.Context, opts Options) (*Store, error) {
			return OpenPostgres(ctx, dsn, opts)
		}}
	}},
}

// forEachEngine runs fn as one subtest per engine ("sqlite", "postgres"),
// each with a database of its own. The PostgreSQL subtest skips when
// ALERTGATE_TEST_POSTGRES_DSN is unset.
func forEachEngine(t *testing.T, fn func(t *testing.T, db *engineDB)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { fn(t, e.db(t)) })
	}
}

// The harness itself: each subtest gets an empty database of the engine
// it is named after, and reopening finds what was written.
func TestEngineHarness(t *testing.T) {
	ran := map[string]bool{}
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ran[db.name] = true
		require.True(t, strings.HasSuffix(t.Name(), "/"+db.name), "subtest named after its engine")
		ctx := context.Background()
		s := db.openTest(t, newClock())
		require.Equal(t, db.name, s.d.name)
		list, err := s.ListIncidents(ctx, IncidentFilter{})
		require.NoError(t, err)
		require.Empty(t, list, "a fresh database")
		key, err := s.Secret(ctx, "harness")
		require.NoError(t, err)
		require.NoError(t, s.Close())
		again, err := db.openTest(t, newClock()).Secret(ctx, "harness")
		require.NoError(t, err)
		require.Equal(t, key, again, "the same database when opened again")
	})
	require.True(t, ran[engineSQLite], "the SQLite subtest always runs")
}

// The single-writer shortcuts are on only where this process is the one
// writer: SQLite keeps the known-keys filter and trusts its in-memory
// views; on PostgreSQL other replicas write the same database, so the
// store is shared and the filter is off.
func TestEngineShortcuts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		s := db.openTest(t, newClock())
		if db.postgres() {
			require.True(t, s.shared)
			require.Nil(t, s.known)
		} else {
			require.False(t, s.shared)
			require.NotNil(t, s.known)
		}
	})
}
