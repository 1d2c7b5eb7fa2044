package server

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/alert"
)

// SeveritySetter raises or lowers an incident's severity
// (store.Store.SetSeverity).
type SeveritySetter interface {
	SetSeverity(ctx context.Context, id int64, sev alert.Severity, actor, note string) (*alert.Incident, error)
}

// severityRequest is the body of POST /api/v1/incidents/{id}/severity.
type severityRequest struct {
	Severity string `json:"severity"`
	Actor    string `json:"actor"`
	Note     string `json:"note"`
}

// setSeverity handles POST /api/v1/incidents/:id/severity.
func (s *Server) setSeverity(c *fiber.Ctx) error {
	id, err := incidentID(c)
	if err != nil {
		return err
	}
	var req severityRequest
	dec := json.NewDecoder(bytes.NewReader(c.BodyRaw()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	sev, err := alert.ParseSeverity(req.Severity)
	if err != nil {
		return badRequest("severity: %v", err)
	}
	req.Actor = strings.TrimSpace(req.Actor)
	if req.Actor == "" {
		req.Actor = defaultActor
	}
	if utf8.RuneCountInString(req.Actor) > maxActorLen || len(req.Note) > maxNoteLen {
		return badRequest("actor or note too long")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	inc, err := s.severity.SetSeverity(ctx, id, sev, req.Actor, req.Note)
	if err != nil {
		return incidentError("set severity of", id, err)
	}
	return c.JSON(inc)
}
