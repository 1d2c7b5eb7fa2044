package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
)

// markdownType is the content type of the post-mortem draft.
const markdownType = "text/markdown; charset=utf-8"

// postmortem handles GET /api/v1/incidents/:id/postmortem: the incident's
// post-mortem draft as Markdown. An open incident gets the draft so far.
func (s *Server) postmortem(c *fiber.Ctx) error {
	d, err := s.incidentDetail(c, "post-mortem")
	if err != nil {
		return err
	}
	var rb *config.Runbook
	if s.runbooks != nil && d.Incident.Runbook != "" {
		rb = s.runbooks(d.Incident.Runbook)
	}
	c.Set(fiber.HeaderContentType, markdownType)
	return c.SendString(router.Postmortem(d, rb, s.now()))
}
