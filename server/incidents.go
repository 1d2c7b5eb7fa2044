package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/store"
)

// Limits of the incident API.
const (
	maxListLimit = 1000
	maxActorLen  = 200
	maxNoteLen   = 10000
	defaultActor = "api"
)

// incidentList is the body of GET /api/v1/incidents.
type incidentList struct {
	Incidents []alert.Incident `json:"incidents"`
}

// actionRequest is the optional body of ack and resolve.
type actionRequest struct {
	Actor string `json:"actor"`
	Note  string `json:"note"`
}

// listIncidents handles GET /api/v1/incidents?status=&severity=&service=&q=&limit=.
func (s *Server) listIncidents(c *fiber.Ctx) error {
	f, err := parseFilter(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	list, err := s.incidents.ListIncidents(ctx, f)
	if err != nil {
		return fmt.Errorf("list incidents: %w", err)
	}
	if list == nil {
		list = []alert.Incident{}
	}
	return c.JSON(incidentList{Incidents: list})
}

// listParams are the query parameters of GET /api/v1/incidents; any
// other is a 400, so that a misspelt filter is not silently ignored.
var listParams = []string{"status", "severity", "service", "q", "limit"}

// Longest service and q values accepted.
const maxFilterLen = 200

// parseFilter validates the list query parameters.
func parseFilter(c *fiber.Ctx) (store.IncidentFilter, error) {
	var f store.IncidentFilter
	var unknown string
	for k := range c.Context().QueryArgs().All() {
		if !slices.Contains(listParams, string(k)) {
			unknown = string(k)
			break
		}
	}
	if unknown != "" {
		return f, badRequest("unknown query parameter %q (want %s)", unknown, strings.Join(listParams, ", "))
	}
	if v := c.Query("status"); v != "" {
		st := alert.IncidentStatus(strings.ToLower(strings.Clone(v)))
		switch {
		case st == "open":
			f.Open = true
		case !st.Valid():
			return f, badRequest("invalid status %q (want open, triggered, acknowledged or resolved)", v)
		default:
			f.Status = st
		}
	}
	if v := c.Query("severity"); v != "" {
		sev, err := alert.ParseSeverity(v)
		if err != nil {
			return f, badRequest("severity: %v", err)
		}
		f.Severity = &sev
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"service", &f.Service}, {"q", &f.Text}} {
		v := c.Query(p.name)
		if len(v) > maxFilterLen || !utf8.ValidString(v) {
			return f, badRequest("%s must be valid UTF-8 of at most %d bytes", p.name, maxFilterLen)
		}
		*p.dst = strings.Clone(v)
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return f, badRequest("invalid limit %q (want 1 to %d)", v, maxListLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// getIncident handles GET /api/v1/incidents/:id.
func (s *Server) getIncident(c *fiber.Ctx) error {
	d, err := s.incidentDetail(c, "get")
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// incidentDetail reads the incident named by the :id parameter.
func (s *Server) incidentDetail(c *fiber.Ctx, verb string) (*store.IncidentDetail, error) {
	id, err := incidentID(c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	d, err := s.incidents.GetIncident(ctx, id)
	if err != nil {
		return nil, incidentError(verb, id, err)
	}
	if d == nil {
		return nil, notFound("incident %s not found", alert.IncidentKey(id))
	}
	return d, nil
}

// acknowledge handles POST /api/v1/incidents/:id/ack.
func (s *Server) acknowledge(c *fiber.Ctx) error {
	return s.act(c, "acknowledge", s.actions.Acknowledge)
}

// resolve handles POST /api/v1/incidents/:id/resolve.
func (s *Server) resolve(c *fiber.Ctx) error {
	return s.act(c, "resolve", s.actions.Resolve)
}

type actionFunc func(ctx context.Context, id int64, actor, note string) (*alert.Incident, error)

func (s *Server) act(c *fiber.Ctx, verb string, do actionFunc) error {
	id, err := incidentID(c)
	if err != nil {
		return err
	}
	req, err := parseAction(c.BodyRaw())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	inc, err := do(ctx, id, req.Actor, req.Note)
	if err != nil {
		return incidentError(verb, id, err)
	}
	return c.JSON(inc)
}

// incidentID parses the :id parameter, "INC-7" or "7".
func incidentID(c *fiber.Ctx) (int64, error) {
	v := c.Params("id")
	id, ok := alert.ParseIncidentKey(v)
	if !ok {
		return 0, badRequest("invalid incident id %q (want INC-7 or 7)", v)
	}
	return id, nil
}

// incidentError gives a store error its context; not-found gets a plain
// message since the store's own wording may not name the incident.
func incidentError(verb string, id int64, err error) error {
	key := alert.IncidentKey(id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("incident %s not found", key)
	}
	return fmt.Errorf("%s %s: %w", verb, key, err)
}

// parseAction reads the optional {"actor","note"} body.
func parseAction(body []byte) (actionRequest, error) {
	var req actionRequest
	if err := decodeBody(body, &req); err != nil {
		return req, err
	}
	return req, req.normalize()
}

// decodeBody decodes an optional JSON body into v strictly: no unknown
// fields, no trailing data.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("invalid JSON body: trailing data")
	}
	return nil
}

// normalize defaults the actor and bounds the actor and the note.
func (req *actionRequest) normalize() error {
	req.Actor = strings.TrimSpace(req.Actor)
	if req.Actor == "" {
		req.Actor = defaultActor
	}
	if err := refuseBadText("invalid body", textField{"actor", req.Actor}, textField{"note", req.Note}); err != nil {
		return err
	}
	switch {
	case utf8.RuneCountInString(req.Actor) > maxActorLen:
		return badRequest("actor longer than %d characters", maxActorLen)
	case len(req.Note) > maxNoteLen:
		return badRequest("note longer than %d bytes", maxNoteLen)
	}
	return nil
}
