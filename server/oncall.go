package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

// OnCall answers who is on call and manages temporary overrides.
type OnCall interface {
	OnCallNow() []router.OnCall
	CheckOverride(o *store.Override) error
}

// OverrideStore keeps overrides durably.
type OverrideStore interface {
	CreateOverride(ctx context.Context, o store.Override) (*store.Override, error)
	DeleteOverride(ctx context.Context, id string) error
	Overrides() []store.Override
}

type overrideRequest struct {
	Role      string   `json:"role"`
	Member    string   `json:"member"`
	Targets   []string `json:"targets"`
	StartsAt  string   `json:"starts_at"`
	EndsAt    string   `json:"ends_at"`
	Duration  string   `json:"duration"`
	CreatedBy string   `json:"created_by"`
}

// getOnCall handles GET /api/v1/oncall: who every role pages now, who is
// next, and the overrides not yet ended.
func (s *Server) getOnCall(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"oncall": s.oncall.OnCallNow(), "overrides": s.overrideStore.Overrides()})
}

// createOverride handles POST /api/v1/oncall/overrides.
func (s *Server) createOverride(c *fiber.Ctx) error {
	var req overrideRequest
	dec := json.NewDecoder(bytes.NewReader(c.BodyRaw()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("invalid override: %v", err)
	}
	fields := []textField{{"role", req.Role}, {"member", req.Member}, {"created_by", req.CreatedBy}}
	for i, t := range req.Targets {
		fields = append(fields, textField{fmt.Sprintf("targets[%d]", i), t})
	}
	if err := refuseBadText("invalid override", fields...); err != nil {
		return err
	}
	start, end, err := s.window("override", req.StartsAt, req.EndsAt, req.Duration)
	if err != nil {
		return err
	}
	o := store.Override{Role: req.Role, Member: req.Member, Targets: req.Targets, CreatedBy: req.CreatedBy, StartsAt: start, EndsAt: end}
	if len(o.CreatedBy) > maxActorLen || len(o.Member) > maxActorLen {
		return badRequest("invalid override: member or created_by too long")
	}
	if err := s.oncall.CheckOverride(&o); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	out, err := s.overrideStore.CreateOverride(ctx, o)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(out)
}

// deleteOverride handles DELETE /api/v1/oncall/overrides/:id.
func (s *Server) deleteOverride(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	if err := s.overrideStore.DeleteOverride(ctx, c.Params("id")); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "deleted"})
}
