package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"
)

// readyTimeout bounds the storage ping of /readyz.
const readyTimeout = 2 * time.Second

// healthz answers 200 "ok" while the process serves.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// readyz answers 200 "ok" when the storage answers a ping within
// readyTimeout, else 503 with a reason; 503 too once Shutdown began.
// The ping's error is logged, not sent: it may name hosts.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.draining.Load() {
		return newHTTPError(http.StatusServiceUnavailable, "not ready: shutting down")
	}
	if s.pinger != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		defer cancel()
		if err := s.pinger.Ping(ctx); err != nil {
			s.log.Warn("not ready", zap.Error(err))
			reason := "not ready: storage unreachable"
			if errors.Is(err, context.DeadlineExceeded) {
				reason = "not ready: storage ping timed out"
			}
			return newHTTPError(http.StatusServiceUnavailable, "%s", reason)
		}
	}
	return c.SendString("ok")
}
