package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = notify.DefaultHTTPTimeout

// Config configures a PagerDuty target.
type Config struct {
	// Templates renders the title (summary) and text (custom_details.text) (the registry always sets
	// it); nil sends the message's own Summary and Text.
	Templates notify.Templates
	// RoutingKey is the integration key of a service or ruleset.
	RoutingKey config.Secret
	// URL overrides DefaultURL (a proxy, a regional endpoint, tests).
	URL config.Secret
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent in the User-Agent.
	Version string
}

// Notifier sends events to one PagerDuty integration.
type Notifier struct {
	ep         *notify.HTTPEndpoint
	routingKey string
	tmpl       notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a PagerDuty Notifier. client is required; a nil log
// discards and a nil now means time.Now.
func New(cfg Config, client *http.Client, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	key := cfg.RoutingKey.Value()
	raw := cfg.URL.Value()
	if raw == "" {
		raw = DefaultURL
	}
	ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
		Kind: "pagerduty", URL: raw, Timeout: cfg.Timeout, Version: cfg.Version, Secrets: []string{key},
	}, client, log, now)
	if err != nil {
		return nil, err
	}
	if key == "" || strings.TrimSpace(key) != key {
		return nil, errors.New("pagerduty: routing key missing or has surrounding spaces")
	}
	return &Notifier{ep: ep, routingKey: key, tmpl: cfg.Templates}, nil
}

// Notify sends the event for m; an info message is skipped (nil error).
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	act := action(m.Kind)
	if act == "" {
		n.ep.Log.Debug("pagerduty skips message kind",
			zap.String("kind", string(m.Kind)), zap.String("incident", m.Incident.Key))
		return nil
	}
	m, _ = notify.Render(n.tmpl, m, n.ep.Log)
	body, err := n.encode(act, m)
	if err != nil {
		return fmt.Errorf("pagerduty enqueue: %w", err)
	}
	if _, err := n.ep.Post(ctx, body, nil); err != nil {
		return fmt.Errorf("pagerduty enqueue: %w", err)
	}
	return nil
}

// encode builds the event for m, shrinking custom details when the body
// would pass the API's size limit.
func (n *Notifier) encode(act string, m *notify.Message) ([]byte, error) {
	e := &Event{RoutingKey: n.routingKey, EventAction: act, DedupKey: DedupKey(m)}
	if e.DedupKey == "" {
		return nil, &notify.DeliveryError{Reason: notify.ReasonClient, Err: errors.New("message has no dedup key")}
	}
	if act == ActionTrigger {
		trigger(e, m)
	}
	body, err := marshal(e)
	if err == nil && len(body) > maxEventBytes && e.Payload != nil {
		shrink(e)
		body, err = marshal(e)
	}
	if err != nil {
		return nil, &notify.DeliveryError{Reason: notify.ReasonClient, Err: fmt.Errorf("encode: %w", err)}
	}
	return body, nil
}

func marshal(e *Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
