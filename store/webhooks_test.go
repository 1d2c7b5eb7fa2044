package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A webhook event id is taken once until its record expires, on every
// store of the database (after a restart on SQLite, from another replica
// on PostgreSQL); a forgotten id is taken again.
func TestClaimWebhookEvent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		keep := clk.Now().Add(10 * time.Minute)

		ok, err := s.ClaimWebhookEvent(ctx, "pagerduty:E1", keep)
		require.NoError(t, err)
		require.True(t, ok, "first sight")
		ok, err = s.ClaimWebhookEvent(ctx, "pagerduty:E1", keep)
		require.NoError(t, err)
		require.False(t, ok, "replay")
		ok, err = s.ClaimWebhookEvent(ctx, "pagerduty:E2", keep)
		require.NoError(t, err)
		require.True(t, ok, "another event")

		other := s
		if db.postgres() {
			other = db.openTest(t, clk) // a second replica, at once
		} else {
			require.NoError(t, s.Close())
			other = db.openTest(t, clk) // the same file after a restart
		}
		ok, err = other.ClaimWebhookEvent(ctx, "pagerduty:E1", keep)
		require.NoError(t, err)
		require.False(t, ok, "replayed to another store of the database")

		require.NoError(t, other.ForgetWebhookEvent(ctx, "pagerduty:E2"))
		ok, err = other.ClaimWebhookEvent(ctx, "pagerduty:E2", keep)
		require.NoError(t, err)
		require.True(t, ok, "forgotten: the retry is taken")

		clk.Advance(11 * time.Minute)
		ok, err = other.ClaimWebhookEvent(ctx, "pagerduty:E1", clk.Now().Add(10*time.Minute))
		require.NoError(t, err)
		require.True(t, ok, "expired record taken over")
		var n int
		require.NoError(t, other.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_events`).Scan(&n))
		require.Equal(t, 1, n, "expired records pruned")
	})
}
