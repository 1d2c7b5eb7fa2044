package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// joinNotes are the details of an incident's "alert(s) joined" entries,
// with their times, in timeline order.
func joinNotes(t *testing.T, s *Store, id int64) []string {
	t.Helper()
	d, err := s.GetIncident(context.Background(), id)
	require.NoError(t, err)
	var out []string
	for _, e := range d.Timeline {
		if e.Kind == alert.EventAlertAdded {
			out = append(out, e.At.Format("15:04:05")+" "+e.Detail)
		}
	}
	return out
}

// Alerts joining an open incident are counted on one timeline entry per
// minute, updated in place in the ingest transaction, instead of one entry
// per batch: a storm of thousands of alerts leaves a readable timeline.
func TestJoinNotesCoalesce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		join := func(fps ...string) {
			t.Helper()
			var batch []alert.Alert
			for _, fp := range fps {
				batch = append(batch, firing("Storm", "checkout", fp))
			}
			res, err := s.Ingest(ctx, batch)
			require.NoError(t, err)
			require.Equal(t, []string{"INC-1"}, res.Incidents)
		}
		join("a0") // opens INC-1
		join("a1")
		join("a2", "a3")
		clk.Advance(30 * time.Second)
		join("a4")
		require.Equal(t, []string{"10:00:00 4 alert(s) joined: a1, a2, a3, a4"}, joinNotes(t, s, 1),
			"three batches within the minute: one entry, counting all")

		// Another entry after the note starts a new one, so the timeline
		// stays in order.
		_, err := s.Acknowledge(ctx, 1, "alice", "looking")
		require.NoError(t, err)
		join("b1")
		clk.Advance(40 * time.Second) // 70 s after the first note
		join("b2")
		// A minute after a note started, the next one begins.
		clk.Advance(30 * time.Second)
		var many []string
		for i := range 12 {
			many = append(many, fmt.Sprintf("c%02d", i))
		}
		join(many...)
		require.Equal(t, []string{
			"10:00:00 4 alert(s) joined: a1, a2, a3, a4",
			"10:00:30 2 alert(s) joined: b1, b2",
			"10:01:40 12 alert(s) joined: c00, c01, c02, c03, c04, c05, c06, c07, c08, c09 (+2 more)",
		}, joinNotes(t, s, 1))
		d, err := s.GetIncident(ctx, 1)
		require.NoError(t, err)
		require.Equal(t, []alert.EventKind{alert.EventDetected, alert.EventClassified, alert.EventAlertAdded,
			alert.EventAcknowledged, alert.EventAlertAdded, alert.EventAlertAdded}, kinds(d.Timeline))
		require.Equal(t, 19, d.Incident.AlertCount)

		// The notes are in the database, not only in memory: a restarted
		// process finds them, and starts a new note for the next join.
		require.NoError(t, s.Close())
		s = db.openTest(t, clk)
		join("d1")
		require.Equal(t, []string{
			"10:00:00 4 alert(s) joined: a1, a2, a3, a4",
			"10:00:30 2 alert(s) joined: b1, b2",
			"10:01:40 12 alert(s) joined: c00, c01, c02, c03, c04, c05, c06, c07, c08, c09 (+2 more)",
			"10:01:40 1 alert(s) joined: d1",
		}, joinNotes(t, s, 1))
	})
}
