package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"
)

// Override puts someone else on call for a role for a while.
type Override struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	Member    string    `json:"member"`
	Targets   []string  `json:"targets"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
}

// CreateOverride stores an override; the caller validated role and targets.
func (s *Store) CreateOverride(ctx context.Context, o Override) (*Override, error) {
	switch {
	case o.Role == "" || o.Member == "" || len(o.Targets) == 0:
		return nil, fmt.Errorf("%w: role, member and targets are required", ErrInvalid)
	case !o.EndsAt.After(o.StartsAt):
		return nil, fmt.Errorf("%w: ends_at must be after starts_at", ErrInvalid)
	case o.CreatedBy == "":
		return nil, fmt.Errorf("%w: created_by is required", ErrInvalid)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("override id: %w", err)
	}
	o.ID = "o-" + hex.EncodeToString(b[:])
	o.StartsAt, o.EndsAt = o.StartsAt.UTC().Truncate(time.Millisecond), o.EndsAt.UTC().Truncate(time.Millisecond)
	targets, _ := json.Marshal(o.Targets)
	err := s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `INSERT INTO overrides (id, role, member, targets, starts_at, ends_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.Role, o.Member, string(targets), ms(o.StartsAt), ms(o.EndsAt), o.CreatedBy, ms(s.now()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create override: %w", err)
	}
	s.log.Info("on-call override created", zap.String("override", o.ID), zap.String("role", o.Role), zap.String("member", o.Member),
		zap.Time("starts_at", o.StartsAt), zap.Time("ends_at", o.EndsAt), zap.String("created_by", o.CreatedBy))
	return &o, s.loadOverrides(ctx)
}

// DeleteOverride removes an override.
func (s *Store) DeleteOverride(ctx context.Context, id string) error {
	var n int64
	err := s.withTx(ctx, func(t *Tx) error {
		res, err := t.exec(ctx, `DELETE FROM overrides WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete override: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("override %s: %w", id, ErrNotFound)
	}
	return s.loadOverrides(ctx)
}

// Overrides returns the overrides not yet ended, earliest start first.
func (s *Store) Overrides() []Override {
	if p := s.overrides.Load(); p != nil {
		return *p
	}
	return nil
}

// ActiveOverride returns the override of role in force at t, if any (the
// latest created wins when several overlap).
func (s *Store) ActiveOverride(role string, t time.Time) (Override, bool) {
	var best Override
	found := false
	for _, o := range s.Overrides() {
		if o.Role == role && !t.Before(o.StartsAt) && t.Before(o.EndsAt) {
			best, found = o, true
		}
	}
	return best, found
}

func (s *Store) loadOverrides(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, role, member, targets, starts_at, ends_at, created_by FROM overrides WHERE ends_at > ? ORDER BY created_at, id`), ms(s.now()))
	if err != nil {
		return fmt.Errorf("%w: overrides: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	list := []Override{}
	for rows.Next() {
		var o Override
		var targets string
		var starts, ends int64
		if err := rows.Scan(&o.ID, &o.Role, &o.Member, &targets, &starts, &ends, &o.CreatedBy); err != nil {
			return fmt.Errorf("overrides: %w", err)
		}
		if err := json.Unmarshal([]byte(targets), &o.Targets); err != nil {
			return fmt.Errorf("override %s: %w", o.ID, err)
		}
		o.StartsAt, o.EndsAt = fromMS(starts), fromMS(ends)
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].StartsAt.Before(list[j].StartsAt) })
	s.overrides.Store(&list)
	return nil
}
