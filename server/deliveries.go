package server

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/store"
)

// Deliveries lists deliveries and requeues dead letters.
type Deliveries interface {
	ListDeliveries(ctx context.Context, state string, limit int) ([]store.Delivery, error)
	RetryDelivery(ctx context.Context, id int64, actor string) (*store.Delivery, error)
}

// listDeliveries handles GET /api/v1/deliveries?state=dead&limit=.
func (s *Server) listDeliveries(c *fiber.Ctx) error {
	state := c.Query("state", store.JobDead)
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return badRequest("invalid limit %q (1..%d)", v, maxListLimit)
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	list, err := s.deliveries.ListDeliveries(ctx, state, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"state": state, "deliveries": list})
}

// retryDelivery handles POST /api/v1/deliveries/:id/retry (body
// optional: {"actor":"alice"}).
func (s *Server) retryDelivery(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("invalid delivery id %q", c.Params("id"))
	}
	req := actionRequest{Actor: defaultActor}
	if body := bytes.TrimSpace(c.BodyRaw()); len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return badRequest("invalid body: %v", err)
		}
		if req.Actor == "" {
			req.Actor = defaultActor
		}
		if err := refuseBadText("invalid body", textField{"actor", req.Actor}); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	d, err := s.deliveries.RetryDelivery(ctx, id, req.Actor)
	if err != nil {
		return err
	}
	return c.JSON(d)
}
