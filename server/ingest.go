package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/alert"
)

// ingestResponse is the body of a successful ingest.
type ingestResponse struct {
	Status    string `json:"status"`
	Alerts    int    `json:"alerts"`
	Unchanged int    `json:"unchanged"`
	// Suppressed counts alerts stored but paging nobody (silence,
	// maintenance window, inhibition): why a firing alert has no incident.
	Suppressed int      `json:"suppressed"`
	Incidents  []string `json:"incidents"`
}

// requestHeader gives decoders the request headers. Values are copies:
// fasthttp reuses its buffers after the handler returns.
type requestHeader struct{ c *fiber.Ctx }

func (h requestHeader) Get(key string) string { return strings.Clone(h.c.Get(key)) }

var _ adapters.Header = requestHeader{}

// ingest handles POST /api/v1/alerts/:source: authenticate, decode,
// commit, and only then answer 2xx. Transient failures answer 503 with
// Retry-After so Alertmanager retries; nothing transient is a 4xx.
func (s *Server) ingest(c *fiber.Ctx) error {
	name := c.Params("source")
	src := s.table().lookup(name)
	if src == nil {
		c.Locals(localSource, unknownSource)
		return notFound("unknown source %q", name)
	}
	c.Locals(localSource, src.name)

	body := c.BodyRaw()
	if err := src.auth.check(c, body, s.now()); err != nil {
		return err
	}
	if enc := c.Get(fiber.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
		return newHTTPError(fiber.StatusUnsupportedMediaType,
			"content-encoding %q not supported; send the body uncompressed", enc)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%w: empty body", adapters.ErrBadPayload)
	}
	// The body's bytes are reserved until the alerts are stored: their
	// decoded form is what costs memory.
	n := int64(len(body))
	if !s.budget.take(n) {
		return errBusy
	}
	defer s.budget.give(n)
	// Content-Type is not checked: many senders mislabel JSON.
	batch, err := src.decoder.Decode(requestHeader{c}, body)
	if err != nil {
		if errors.Is(err, adapters.ErrBadPayload) {
			// The decoder's message is the client's answer as is:
			// "bad payload: alerts[0].labels: ...".
			return err
		}
		return fmt.Errorf("decode %s: %w", src.typ, err)
	}
	if err := s.limits.Apply(&batch); err != nil {
		return err
	}
	s.countReceived(src, batch)
	if len(batch.Alerts) == 0 {
		return c.JSON(ingestResponse{Status: "ok", Incidents: []string{}})
	}

	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	res, err := s.ingester.Ingest(ctx, batch.Alerts)
	if err != nil {
		return fmt.Errorf("ingest %d alerts: %w", len(batch.Alerts), err)
	}
	if res.Incidents == nil {
		res.Incidents = []string{}
	}
	s.log.Debug("alerts accepted", zapSource(src.name),
		zap.Int("alerts", len(batch.Alerts)),
		zap.Int("unchanged", res.Unchanged),
		zap.Int("suppressed", res.Suppressed),
		zap.Strings("incidents", res.Incidents))
	return c.JSON(ingestResponse{
		Status:     "ok",
		Alerts:     len(batch.Alerts),
		Unchanged:  res.Unchanged,
		Suppressed: res.Suppressed,
		Incidents:  res.Incidents,
	})
}

// countReceived records the decoded alerts and any the sender dropped.
func (s *Server) countReceived(src *source, b adapters.Batch) {
	var firing, resolved, other float64
	for i := range b.Alerts {
		switch b.Alerts[i].Status {
		case alert.StatusFiring:
			firing++
		case alert.StatusResolved:
			resolved++
		default:
			other++
		}
	}
	// The status label takes only these three values.
	add := func(status string, n float64) {
		if n > 0 {
			s.metrics.received.WithLabelValues(src.name, status).Add(n)
		}
	}
	add(string(alert.StatusFiring), firing)
	add(string(alert.StatusResolved), resolved)
	add("unknown", other)
	if b.Truncated > 0 {
		s.metrics.truncated.WithLabelValues(src.name).Add(float64(b.Truncated))
		s.log.Warn("sender truncated alerts", zapSource(src.name),
			zap.Int("truncated", b.Truncated), zap.Int("received", len(b.Alerts)),
			zap.String("receiver", b.Receiver), zap.String("group_key", b.GroupKey))
	}
}
