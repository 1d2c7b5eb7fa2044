package server

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router"
)

// PlanFunc lists an incident's pending steps (router.Engine.Pending over
// the store's jobs).
type PlanFunc func(ctx context.Context, id int64) ([]router.PendingStep, error)

// incidentPlan is the body of GET /api/v1/incidents/{id}/plan.
type incidentPlan struct {
	Incident string               `json:"incident"`
	Status   alert.IncidentStatus `json:"status"`
	At       time.Time            `json:"at"`
	Steps    []router.PendingStep `json:"steps"`
}

// plan handles GET /api/v1/incidents/:id/plan: what will happen next.
func (s *Server) plan(c *fiber.Ctx) error {
	d, err := s.incidentDetail(c, "plan")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	steps, err := s.planFn(ctx, d.Incident.ID)
	if err != nil {
		return fmt.Errorf("plan %s: %w", d.Incident.Key, err)
	}
	return c.JSON(incidentPlan{Incident: d.Incident.Key, Status: d.Incident.Status, At: s.now().UTC(), Steps: steps})
}
