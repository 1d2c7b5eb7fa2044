package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The engine's look for due steps and their claim walk the steps' own
// index: with jobs_due (state, due_at) they walked every pending delivery
// due and read its row to skip it, the costliest query of an incident
// storm. On PostgreSQL the planner decides by statistics; SQLite's plan
// is fixed by the schema, so it is checked here.
func TestDueStepQueriesUseTheStepIndex(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"), testOptions(newClock()))
	require.NoError(t, err)
	defer s.Close()
	for _, q := range []string{anyStepDue, dueSteps} {
		args := []any{0, 10}
		plan := queryPlan(t, s, q, args[:strings.Count(q, "?")]...)
		// One search of the step index; the claim's ORDER BY due_at, id is
		// the index's order (no temporary b-tree).
		require.Len(t, plan, 1, q)
		require.Regexp(t, `^SEARCH jobs USING (COVERING )?INDEX jobs_pending_step \(kind=\? AND state=\? AND due_at<\?\)$`, plan[0], q)
	}
}

// The batch's read of its groups looks each group up in an index of
// incidents by group key, not by a scan of the table.
func TestGroupReadUsesTheGroupIndex(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"), testOptions(newClock()))
	require.NoError(t, err)
	defer s.Close()
	plan := queryPlan(t, s, readGroupsSQLite, `["a","b"]`, 0)
	for _, p := range plan {
		require.NotRegexp(t, `^SCAN incidents`, p)
	}
	require.Regexp(t, `SEARCH incidents USING INDEX incidents_(group_resolved|open_group) \(group_key=\?`, strings.Join(plan, "\n"))
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of q, one line per step.
func queryPlan(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	return plan
}
