package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
)

// Secret returns the gateway's own secret called name, generating 32
// random bytes and storing them the first time. Every process on the same
// database gets the same secret (one-click links signed by one replica
// verify on another, and survive restarts).
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	var out []byte
	err := s.withTx(ctx, func(t *Tx) error {
		var v string
		err := t.queryRow(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
		switch {
		case err == nil:
		case errors.Is(err, sql.ErrNoRows):
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return fmt.Errorf("generate %s: %w", name, err)
			}
			v = hex.EncodeToString(b)
			if _, err := t.exec(ctx, `INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`, name, v, ms(s.now())); err != nil {
				return fmt.Errorf("store %s: %w", name, err)
			}
			// Another process may have won the race: read what is stored.
			if err := t.queryRow(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v); err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
		default:
			return fmt.Errorf("read %s: %w", name, err)
		}
		b, err := hex.DecodeString(v)
		if err != nil {
			return fmt.Errorf("setting %s is corrupt: %w", name, err)
		}
		out = b
		return nil
	})
	return out, err
}

// Claim records key as done and reports whether this call did it (false:
// it was claimed before, by this process or another), for work done in
// the same breath (the database's epoch); work that may die half-way — a
// digest send — uses ClaimFor.
func (s *Store) Claim(ctx context.Context, key string) (bool, error) {
	var n int64
	err := s.withTx(ctx, func(t *Tx) error {
		res, err := t.exec(ctx, `INSERT INTO once_keys (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, ms(s.now()))
		if err != nil {
			return fmt.Errorf("claim %s: %w", key, err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n == 1, err
}

// ClaimFor claims key for work that takes up to lease: it reports true
// when the key was never claimed, or when an earlier claim's work never
// finished (Done) within its lease — its claimant died, and this call takes
// the work over. Call Done when the work is done.
func (s *Store) ClaimFor(ctx context.Context, key string, lease time.Duration) (bool, error) {
	var n int64
	now := s.now()
	err := s.withTx(ctx, func(t *Tx) error {
		res, err := t.exec(ctx, `INSERT INTO once_keys (key, at, done) VALUES (?, ?, 0)
ON CONFLICT (key) DO UPDATE SET at = excluded.at WHERE once_keys.done = 0 AND once_keys.at < ?`, key, ms(now), ms(now.Add(-lease)))
		if err != nil {
			return fmt.Errorf("claim %s: %w", key, err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n == 1, err
}

// Done marks the work of a ClaimFor claim as done for good.
func (s *Store) Done(ctx context.Context, key string) error {
	return s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `UPDATE once_keys SET done = 1 WHERE key = ?`, key)
		return err
	})
}

// Unclaim forgets a claim whose work failed, so it is tried again.
func (s *Store) Unclaim(ctx context.Context, key string) error {
	return s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `DELETE FROM once_keys WHERE key = ?`, key)
		return err
	})
}

// Epoch is when this database first served (digests never cover time
// before it).
func (s *Store) Epoch(ctx context.Context) (time.Time, error) {
	if _, err := s.Claim(ctx, "epoch"); err != nil {
		return time.Time{}, err
	}
	var at int64
	if err := s.r.QueryRowContext(ctx, `SELECT at FROM once_keys WHERE key = 'epoch'`).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("%w: epoch: %v", ErrUnavailable, err)
	}
	return fromMS(at), nil
}

// DigestIncidents returns the incidents of the given severities that were
// opened, acknowledged or resolved in [from, to), or are still open.
func (s *Store) DigestIncidents(ctx context.Context, sevs []alert.Severity, from, to time.Time) ([]alert.Incident, error) {
	if len(sevs) == 0 {
		return nil, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(sevs)), ", ")
	args := []any{}
	for _, sv := range sevs {
		args = append(args, int(sv))
	}
	f, t := ms(from), ms(to)
	args = append(args, f, t, f, t, f, t)
	return s.listIncidents(ctx, "digest incidents", `SELECT `+incidentCols+` FROM incidents WHERE severity IN (`+ph+`) AND (
 (opened_at >= ? AND opened_at < ?) OR (acked_at >= ? AND acked_at < ?) OR (resolved_at >= ? AND resolved_at < ?) OR status <> 'resolved')
ORDER BY severity, id LIMIT 500`, args...)
}
