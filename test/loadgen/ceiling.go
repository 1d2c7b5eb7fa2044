package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// serveAppend runs the durable-append ceiling on addr until SIGTERM or
// SIGINT: the baseline's fiber app whose handler decodes the body, hands
// it to one appender goroutine and answers 200 once the appender has
// written it to path and fdatasync'd the file. The appender takes every
// body waiting when it starts a write (group commit, as the store's
// writer batches requests), so this is the cheapest durable commit there
// is — no SQL — and the physical limit beside the gateway's figures.
func serveAppend(addr, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("append file: %w", err)
	}
	defer f.Close()
	a := newAppender(f)
	defer a.close()
	app := newBaselineApp(a.handler)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(addr) }()
	select {
	case err := <-errc:
		return fmt.Errorf("append listen: %w", err)
	case <-ctx.Done():
	}
	if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("append shutdown: %w", err)
	}
	return <-errc
}

// appendReq is one body waiting for the appender.
type appendReq struct {
	body []byte
	done chan error
}

// appender group-commits bodies to a file.
type appender struct {
	f    *os.File
	reqs chan appendReq
	quit chan struct{}
	buf  []byte
}

func newAppender(f *os.File) *appender {
	a := &appender{f: f, reqs: make(chan appendReq, 4096), quit: make(chan struct{})}
	go a.run()
	return a
}

func (a *appender) close() { close(a.quit) }

// run writes what is waiting in one write and one fdatasync, then answers
// every request of that batch.
func (a *appender) run() {
	batch := make([]appendReq, 0, 256)
	for {
		select {
		case r := <-a.reqs:
			batch = append(batch[:0], r)
		case <-a.quit:
			return
		}
	more:
		for {
			select {
			case r := <-a.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		a.buf = a.buf[:0]
		for _, r := range batch {
			a.buf = append(a.buf, r.body...)
		}
		_, err := a.f.Write(a.buf)
		if err == nil {
			err = syscall.Fdatasync(int(a.f.Fd()))
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

// handler decodes the body (as the baseline does), appends it durably and
// answers 200.
func (a *appender) handler(c *fiber.Ctx) error {
	body := c.Body()
	var msg webhookMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
	}
	if len(msg.Alerts) == 0 {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "no alerts"})
	}
	done := make(chan error, 1)
	a.reqs <- appendReq{body: body, done: done}
	if err := <-done; err != nil {
		return c.Status(fiber.StatusInternalServerError).JSON(fiber.Map{"error": err.Error()})
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.SendString(`{"status":"ok"}`)
}
