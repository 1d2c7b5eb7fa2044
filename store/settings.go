package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
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
