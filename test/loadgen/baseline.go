package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Server settings shared by the baseline and the gateway's bench config,
// equal to config/example.yml's: the comparison differs only in what the
// ingest handler does.
const (
	benchBodyLimit    = 1 << 20
	benchReadTimeout  = 10 * time.Second
	benchWriteTimeout = 10 * time.Second
	benchIdleTimeout  = 60 * time.Second
)

// serveBaseline runs the parse-only reference server on addr until
// SIGTERM or SIGINT: a fiber app configured like the gateway whose
// POST /api/v1/alerts/:source decodes the whole Alertmanager webhook body
// and answers 200 {"status":"ok"}, committing nothing.
func serveBaseline(addr string) error {
	app := newBaselineApp(parseOnly)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(addr) }()
	select {
	case err := <-errc:
		return fmt.Errorf("baseline listen: %w", err)
	case <-ctx.Done():
	}
	if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("baseline shutdown: %w", err)
	}
	return <-errc
}

// newBaselineApp returns the baseline's routes, ingest handled by ingest.
func newBaselineApp(ingest fiber.Handler) *fiber.App {
	app := fiber.New(fiber.Config{
		BodyLimit:             benchBodyLimit,
		ReadTimeout:           benchReadTimeout,
		WriteTimeout:          benchWriteTimeout,
		IdleTimeout:           benchIdleTimeout,
		DisableStartupMessage: true,
	})
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Post("/api/v1/alerts/:source", ingest)
	return app
}

// parseOnly is the baseline ingest handler.
func parseOnly(c *fiber.Ctx) error {
	var msg webhookMessage
	if err := json.Unmarshal(c.Body(), &msg); err != nil {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
	}
	if len(msg.Alerts) == 0 {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "no alerts"})
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.SendString(`{"status":"ok"}`)
}
