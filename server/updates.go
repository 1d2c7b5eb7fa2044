package server

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// updateRequest is the body of POST /api/v1/incidents/{id}/updates.
type updateRequest struct {
	Actor string `json:"actor"`
	Text  string `json:"text"`
}

// postUpdate handles POST /api/v1/incidents/:id/updates: a status update
// goes on the timeline and out to the internal channel (and, for P0/P1,
// the status page); it also resets the update-reminder cadence.
func (s *Server) postUpdate(c *fiber.Ctx) error {
	id, err := incidentID(c)
	if err != nil {
		return err
	}
	var req updateRequest
	dec := json.NewDecoder(bytes.NewReader(c.BodyRaw()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("invalid update: %v (want {\"actor\":\"alice\",\"text\":\"...\"})", err)
	}
	req.Text = strings.TrimSpace(req.Text)
	if err := refuseBadText("invalid update", textField{"actor", req.Actor}, textField{"text", req.Text}); err != nil {
		return err
	}
	switch {
	case req.Text == "":
		return badRequest("invalid update: text is required")
	case len(req.Text) > maxNoteLen || !utf8.ValidString(req.Text):
		return badRequest("invalid update: text must be valid UTF-8 of at most %d bytes", maxNoteLen)
	case len(req.Actor) > maxActorLen:
		return badRequest("invalid update: actor is longer than %d bytes", maxActorLen)
	}
	if req.Actor == "" {
		req.Actor = defaultActor
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	inc, err := s.updater.PostUpdate(ctx, id, req.Actor, req.Text)
	if err != nil {
		return incidentError("update", id, err)
	}
	return c.JSON(inc)
}
