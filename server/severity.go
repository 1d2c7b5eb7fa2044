package server

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/alert"
)

// SeveritySetter raises or lowers an incident's severity
// (store.Store.SetSeverity).
type SeveritySetter interface {
	SetSeverity(ctx context.Context, id int64, sev alert.Severity, actor, note string) (*alert.Incident, error)
}

// setSeverity handles POST /api/v1/incidents/:id/severity: the body is
// an action's ({"actor", "note"}, parseAction) with a "severity".
func (s *Server) setSeverity(c *fiber.Ctx) error {
	id, err := incidentID(c)
	if err != nil {
		return err
	}
	var req struct {
		actionRequest
		Severity string `json:"severity"`
	}
	if err := decodeBody(c.BodyRaw(), &req); err != nil {
		return err
	}
	sev, err := alert.ParseSeverity(req.Severity)
	if err != nil {
		return badRequest("severity: %v", err)
	}
	if err := req.normalize(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	inc, err := s.severity.SetSeverity(ctx, id, sev, req.Actor, req.Note)
	if err != nil {
		return incidentError("set severity of", id, err)
	}
	return c.JSON(inc)
}
