package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// silenceRequest is the body of POST /api/v1/silences. Either ends_at or
// duration gives the end; starts_at defaults to now.
type silenceRequest struct {
	Matchers        []string `json:"matchers"`
	StartsAt        string   `json:"starts_at"`
	EndsAt          string   `json:"ends_at"`
	Duration        string   `json:"duration"`
	CreatedBy       string   `json:"created_by"`
	Comment         string   `json:"comment"`
	ExpireOnResolve bool     `json:"expire_on_resolve"`
}

// listSilences handles GET /api/v1/silences.
func (s *Server) listSilences(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	list, err := s.silences.ListSilences(ctx)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"silences": list})
}

// createSilence handles POST /api/v1/silences.
func (s *Server) createSilence(c *fiber.Ctx) error {
	var req silenceRequest
	dec := json.NewDecoder(bytes.NewReader(c.BodyRaw()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("invalid silence: %v", err)
	}
	if len(req.Matchers) == 0 {
		return badRequest("invalid silence: matchers are required")
	}
	fields := []textField{{"created_by", req.CreatedBy}, {"comment", req.Comment}}
	for i, m := range req.Matchers {
		fields = append(fields, textField{fmt.Sprintf("matchers[%d]", i), m})
	}
	if err := refuseBadText("invalid silence", fields...); err != nil {
		return err
	}
	if len(req.CreatedBy) > maxActorLen || len(req.Comment) > maxNoteLen {
		return badRequest("invalid silence: created_by or comment too long")
	}
	start, end, err := s.window("silence", req.StartsAt, req.EndsAt, req.Duration)
	if err != nil {
		return err
	}
	if lasts := end.Sub(latest(start, s.now())); lasts > s.maxSilence {
		return badRequest("invalid silence: it would last %s, longer than server.max_silence_duration (%s)", lasts, s.maxSilence)
	}
	cs := config.Silence{Matchers: req.Matchers, StartsAt: start.Format(time.RFC3339Nano), EndsAt: end.Format(time.RFC3339Nano),
		CreatedBy: req.CreatedBy, Comment: req.Comment, ExpireOnResolve: req.ExpireOnResolve}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	sil, err := s.silences.CreateSilence(ctx, cs)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(sil)
}

// expireSilence handles DELETE /api/v1/silences/:id: the silence ends now.
func (s *Server) expireSilence(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	if err := s.silences.ExpireSilence(ctx, c.Params("id")); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "expired"})
}

// listAlerts handles GET /api/v1/alerts?state=suppressed: the firing alerts
// that page nobody, with what suppresses them.
func (s *Server) listAlerts(c *fiber.Ctx) error {
	if st := c.Query("state"); st != "suppressed" {
		return badRequest("state=%q: only state=suppressed is supported (incident alerts are under /api/v1/incidents/{id})", st)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	list, err := s.silences.SuppressedAlerts(ctx, 0)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alerts": list})
}

var _ Silences = (*store.Store)(nil)

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// window parses the start and end of a silence or override: starts_at
// (RFC 3339, default now) and either ends_at or a duration.
func (s *Server) window(what, startsAt, endsAt, duration string) (start, end time.Time, err error) {
	start = s.now()
	if startsAt != "" {
		if start, err = time.Parse(time.RFC3339, startsAt); err != nil {
			return start, end, badRequest("invalid %s: starts_at %q is not RFC 3339", what, startsAt)
		}
	}
	switch {
	case endsAt != "" && duration != "":
		return start, end, badRequest("invalid %s: give ends_at or duration, not both", what)
	case endsAt != "":
		if end, err = time.Parse(time.RFC3339, endsAt); err != nil {
			return start, end, badRequest("invalid %s: ends_at %q is not RFC 3339", what, endsAt)
		}
	case duration != "":
		d, err := time.ParseDuration(duration)
		if err != nil || d <= 0 {
			return start, end, badRequest("invalid %s: duration %q (want e.g. 2h)", what, duration)
		}
		end = start.Add(d)
	default:
		return start, end, badRequest("invalid %s: ends_at or duration is required", what)
	}
	return start, end, nil
}
