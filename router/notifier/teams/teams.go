package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = notify.DefaultHTTPTimeout

// Config configures a Teams target.
type Config struct {
	// Templates renders the title (card heading) and the text (the registry always sets
	// it); nil sends the message's own Summary and Text.
	Templates notify.Templates
	// URL is the Workflows webhook URL; its sig query parameter is the
	// credential.
	URL config.Secret
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent in the User-Agent.
	Version string
}

// Notifier posts Adaptive Cards to one Workflows webhook.
type Notifier struct {
	ep   *notify.HTTPEndpoint
	tmpl notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Teams Notifier. client is required; a nil log discards
// and a nil now means time.Now.
func New(cfg Config, client *http.Client, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
		Kind: "teams", URL: cfg.URL.Value(), Timeout: cfg.Timeout, Version: cfg.Version,
	}, client, log, now)
	if err != nil {
		return nil, err
	}
	return &Notifier{ep: ep, tmpl: cfg.Templates}, nil
}

// Notify posts m as an Adaptive Card (see Build). Every kind is sent.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	m, _ = notify.Render(n.tmpl, m, n.ep.Log)
	body, err := encode(Build(m))
	if err != nil {
		return &notify.DeliveryError{Reason: notify.ReasonClient, Err: fmt.Errorf("teams encode: %w", err)}
	}
	if _, err := n.ep.Post(ctx, body, nil); err != nil {
		return fmt.Errorf("teams post: %w", err)
	}
	return nil
}

// encode renders p as the request body, without HTML escaping.
func encode(p Payload) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
