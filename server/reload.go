package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
)

// reload handles POST /-/reload, as Alertmanager and Prometheus do: the
// config file is read again; an invalid file is rejected with its errors
// (500, as Alertmanager answers) and the running config stays.
func (s *Server) reload(c *fiber.Ctx) error {
	if s.reloadFn == nil {
		return newHTTPError(http.StatusNotFound, "reload is not available: the gateway runs without a config file")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 30*time.Second)
	defer cancel()
	if err := s.reloadFn(ctx); err != nil {
		return c.Status(http.StatusInternalServerError).JSON(fiber.Map{"error": "config not reloaded: " + err.Error()})
	}
	return c.JSON(fiber.Map{"status": "reloaded"})
}
