package store

import (
	"context"
	"fmt"
	"time"
)

// ClaimWebhookEvent records the id of an inbound webhook event (e.g.
// "pagerduty:01DEN0UHNDQ2ZJ6M5HHZ8BIAOR") until keepUntil and reports
// whether this call recorded it: false means the event was seen before and
// its record has not expired — a replay, from any replica on this
// database. Expired records are taken over and pruned on the way.
func (s *Store) ClaimWebhookEvent(ctx context.Context, id string, keepUntil time.Time) (bool, error) {
	var n int64
	now := ms(s.now())
	err := s.withTx(ctx, func(t *Tx) error {
		if _, err := t.exec(ctx, `DELETE FROM webhook_events WHERE expires_at < ?`, now); err != nil {
			return fmt.Errorf("prune webhook events: %w", err)
		}
		res, err := t.exec(ctx, `INSERT INTO webhook_events (id, expires_at) VALUES (?, ?)
ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE webhook_events.expires_at < ?`, id, ms(keepUntil), now)
		if err != nil {
			return fmt.Errorf("claim webhook event: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n == 1, err
}

// ForgetWebhookEvent drops the record of an event whose effect could not
// be applied (the store was unavailable), so the sender's retry is taken.
func (s *Store) ForgetWebhookEvent(ctx context.Context, id string) error {
	return s.withTx(ctx, func(t *Tx) error {
		if _, err := t.exec(ctx, `DELETE FROM webhook_events WHERE id = ?`, id); err != nil {
			return fmt.Errorf("forget webhook event: %w", err)
		}
		return nil
	})
}
