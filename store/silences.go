package store

// Silences made through the API: create, expire, list, and the copy in
// memory the rules read beside the config's silences.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/rules"
)

// Silence is a silence as the API shows it.
type Silence struct {
	ID              string    `json:"id"`
	Matchers        []string  `json:"matchers"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
	CreatedBy       string    `json:"created_by"`
	Comment         string    `json:"comment"`
	ExpireOnResolve bool      `json:"expire_on_resolve"`
	// State is pending, active or expired.
	State string `json:"state"`
	// Origin is "api" or "config".
	Origin string `json:"origin"`
}

// silencesNow returns every silence the rules should consider: the
// config's and the API's.
func (s *Store) silencesNow() []rules.Silence {
	var out []rules.Silence
	if p := s.Policy(); p != nil && p.classifier != nil {
		out = append(out, p.classifier.Silences()...)
	}
	if api := s.apiSilences.Load(); api != nil {
		out = append(out, (*api)...)
	}
	return out
}

// CreateSilence stores a silence made through the API.
func (s *Store) CreateSilence(ctx context.Context, c config.Silence) (*Silence, error) {
	now := s.now()
	if c.ID != "" {
		return nil, fmt.Errorf("%w: id is assigned by the gateway", ErrInvalid)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("silence id: %w", err)
	}
	c.ID = "s-" + hex.EncodeToString(b[:])
	sil, err := rules.ParseSilence(c, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !sil.EndsAt.After(now) {
		return nil, fmt.Errorf("%w: ends_at is in the past", ErrInvalid)
	}
	// As stored: milliseconds.
	sil.StartsAt, sil.EndsAt = fromMS(ms(sil.StartsAt)), fromMS(ms(sil.EndsAt))
	if c.CreatedBy == "" {
		return nil, fmt.Errorf("%w: created_by is required", ErrInvalid)
	}
	matchers, _ := json.Marshal(c.Matchers)
	eor := 0
	if c.ExpireOnResolve {
		eor = 1
	}
	err = s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, expire_on_resolve, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, string(matchers), ms(sil.StartsAt), ms(sil.EndsAt), c.CreatedBy, c.Comment, eor, ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("create silence: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadSilences(ctx); err != nil {
		return nil, err
	}
	s.log.Info("silence created", zap.String("silence", c.ID), zap.Strings("matchers", c.Matchers),
		zap.Time("ends_at", sil.EndsAt), zap.String("created_by", c.CreatedBy))
	v := silenceView(sil, c.Matchers, "api", now)
	return &v, nil
}

// ExpireSilence ends a silence now (DELETE /api/v1/silences/{id}); the
// alerts it suppressed are evaluated afresh at once.
func (s *Store) ExpireSilence(ctx context.Context, id string) error {
	now := s.now()
	var n int64
	err := s.withTx(ctx, func(t *Tx) error {
		res, err := t.exec(ctx, `UPDATE silences SET ends_at = ?, updated_at = ? WHERE id = ? AND ends_at > ?`, ms(now), ms(now), id, ms(now))
		if err != nil {
			return fmt.Errorf("expire silence: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		var exists int
		if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM silences WHERE id = ?`), id).Scan(&exists); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if exists == 0 {
			return fmt.Errorf("silence %s: %w", id, ErrNotFound)
		}
		return nil // already expired
	}
	s.log.Info("silence expired", zap.String("silence", id))
	if err := s.loadSilences(ctx); err != nil {
		return err
	}
	// Held pages of open incidents it silenced are released here, on
	// whichever replica took the request (the sweep is the leader's).
	if n, err := s.ReleaseHeld(ctx); err != nil {
		s.log.Warn("release held pages", zap.Error(err))
	} else if n > 0 {
		s.log.Info("held pages released", zap.Int("incidents", n))
	}
	s.triggerReevaluate()
	return nil
}

// ListSilences returns the config's silences and the API's (expired ones
// of the last 7 days included), newest end first.
func (s *Store) ListSilences(ctx context.Context) ([]Silence, error) {
	now := s.now()
	out := []Silence{}
	if p := s.Policy(); p != nil && p.classifier != nil {
		for _, sil := range p.classifier.Silences() {
			out = append(out, silenceView(sil, matcherStrings(sil), "config", now))
		}
	}
	api, err := s.querySilences(ctx, now.Add(-7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	for _, a := range api {
		out = append(out, silenceView(a.sil, a.matchers, "api", now))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EndsAt.After(out[j].EndsAt) })
	return out, nil
}

type storedSilence struct {
	sil      rules.Silence
	matchers []string
}

func (s *Store) querySilences(ctx context.Context, endsAfter time.Time) ([]storedSilence, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, matchers, starts_at, ends_at, created_by, comment, expire_on_resolve FROM silences WHERE ends_at > ? ORDER BY id`), ms(endsAfter))
	if err != nil {
		return nil, fmt.Errorf("%w: silences: %v", ErrUnavailable, err)
	}
	defer rows.Close()
	var out []storedSilence
	for rows.Next() {
		var c config.Silence
		var m string
		var starts, ends int64
		var eor int
		if err := rows.Scan(&c.ID, &m, &starts, &ends, &c.CreatedBy, &c.Comment, &eor); err != nil {
			return nil, fmt.Errorf("silences: %w", err)
		}
		if err := json.Unmarshal([]byte(m), &c.Matchers); err != nil {
			return nil, fmt.Errorf("silence %s: %w", c.ID, err)
		}
		// A silence expired early (at or before its start) is stored with
		// ends_at <= starts_at; it parses as a silence that ended at once.
		parseStart := starts
		if ends <= starts {
			parseStart = ends - 1
		}
		c.StartsAt, c.EndsAt, c.ExpireOnResolve = fromMS(parseStart).Format(time.RFC3339Nano), fromMS(ends).Format(time.RFC3339Nano), eor == 1
		sil, err := rules.ParseSilence(c, fromMS(parseStart))
		if err != nil {
			return nil, fmt.Errorf("silence %s: %w", c.ID, err)
		}
		out = append(out, storedSilence{sil: sil, matchers: c.Matchers})
	}
	return out, rows.Err()
}

// loadSilences refreshes the in-memory list of API silences not yet ended.
func (s *Store) loadSilences(ctx context.Context) error {
	api, err := s.querySilences(ctx, s.now())
	if err != nil {
		return err
	}
	list := make([]rules.Silence, 0, len(api))
	for _, a := range api {
		list = append(list, a.sil)
	}
	s.apiSilences.Store(&list)
	return nil
}

func matcherStrings(sil rules.Silence) []string {
	out := make([]string, 0, len(sil.Matchers))
	for _, m := range sil.Matchers {
		out = append(out, m.String())
	}
	return out
}

func silenceView(sil rules.Silence, matchers []string, origin string, now time.Time) Silence {
	v := Silence{ID: sil.ID, Matchers: matchers, StartsAt: sil.StartsAt.UTC(), EndsAt: sil.EndsAt.UTC(), CreatedBy: sil.CreatedBy,
		Comment: sil.Comment, ExpireOnResolve: sil.ExpireOnResolve, Origin: origin, State: "active"}
	switch {
	case now.Before(sil.StartsAt):
		v.State = "pending"
	case !now.Before(sil.EndsAt):
		v.State = "expired"
	}
	return v
}
