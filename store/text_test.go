package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// Text the adapters did not normalize is refused the same way on both
// engines: 400 (ErrInvalid) naming the field, never ErrUnavailable.
func TestIngestRefusesUnnormalizedText(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(a *alert.Alert)
		field string
	}{
		{"NUL in an annotation", func(a *alert.Alert) { a.Annotations = map[string]string{"summary": "bad\x00title"} }, "alerts[1].annotations.summary"},
		{"NUL in the title", func(a *alert.Alert) { a.Title = "bad\x00" }, "alerts[1].title"},
		{"invalid UTF-8 in a label value", func(a *alert.Alert) { a.Labels["host"] = "db\xff" }, "alerts[1].labels.host"},
		{"NUL in a label name", func(a *alert.Alert) { a.Labels["ho\x00st"] = "db" }, `alerts[1].labels.ho\x00st`},
	}
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		s := db.openTest(t, newClock())
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				bad := firing("Bad", "checkout", "bad")
				tt.edit(&bad)
				_, err := s.Ingest(context.Background(), []alert.Alert{firing("Good", "checkout", "good"), bad})
				require.ErrorIs(t, err, ErrInvalid)
				require.NotErrorIs(t, err, ErrUnavailable)
				require.EqualError(t, err, "invalid: "+tt.field+": contains a NUL byte or invalid UTF-8")
			})
		}
	})
}

// A value the database itself refuses (on PostgreSQL, an index row over
// its size limit) is a permanent error: ErrInvalid, not a 503 that makes
// the sender retry the same body; another request of the same group
// commit is still stored. SQLite has no such limit and stores it.
func TestIngestPermanentDatabaseErrorIsInvalid(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		s := db.openTest(t, newClock())
		// Random, so PostgreSQL cannot compress it under the index's
		// 2704-byte row limit.
		raw := make([]byte, 4000)
		_, _ = rand.Read(raw)
		huge := firing("Huge", "checkout", hex.EncodeToString(raw))
		_, err := s.Ingest(ctx, []alert.Alert{huge})
		if !db.postgres() {
			require.NoError(t, err)
			return
		}
		require.ErrorIs(t, err, ErrInvalid)
		require.NotErrorIs(t, err, ErrUnavailable)
		require.ErrorContains(t, err, "the database refused the alerts")
		require.ErrorContains(t, err, "SQLSTATE 54000")
		require.ErrorContains(t, err, "refused the alerts (table alerts): index row size")

		res, err := s.Ingest(ctx, []alert.Alert{firing("Fine", "payments", "fine")})
		require.NoError(t, err)
		require.Len(t, res.Incidents, 1, "the store still takes alerts")
	})
}
