package slack

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

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = notify.DefaultHTTPTimeout

// Config configures a Slack target.
type Config struct {
	// Templates renders the title (header, notification) and the text (the registry always sets
	// it); nil sends the message's own Summary and Text.
	Templates notify.Templates
	// URL is the incoming webhook URL; its path is the token.
	URL config.Secret
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent in the User-Agent.
	Version string
}

// Notifier posts messages to one incoming webhook.
type Notifier struct {
	ep   *notify.HTTPEndpoint
	tmpl notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Slack Notifier. client is required; a nil log discards
// and a nil now means time.Now.
func New(cfg Config, client *http.Client, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
		Kind: "slack", URL: cfg.URL.Value(), Timeout: cfg.Timeout, Version: cfg.Version,
	}, client, log, now)
	if err != nil {
		return nil, err
	}
	return &Notifier{ep: ep, tmpl: cfg.Templates}, nil
}

// Notify posts m (see Build). Every kind is sent.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	m, _ = notify.Render(n.tmpl, m, n.ep.Log)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Build(m)); err != nil {
		return &notify.DeliveryError{Reason: notify.ReasonClient, Err: fmt.Errorf("slack encode: %w", err)}
	}
	resp, err := n.ep.Post(ctx, buf.Bytes(), nil)
	if err = check(resp, err, n.ep.Secrets); err != nil {
		return fmt.Errorf("slack post: %w", err)
	}
	return nil
}

// authCodes are Slack error bodies meaning the webhook itself is gone or
// not allowed to post: fixing them takes a new URL, not a retry.
var authCodes = map[string]bool{
	"invalid_token":     true,
	"no_service":        true,
	"no_team":           true,
	"team_disabled":     true,
	"no_active_hooks":   true,
	"action_prohibited": true,
	"token_revoked":     true,
	"token_expired":     true,
}

// check applies Slack's rules to SendHTTP's result: success is 200 with
// the body "ok"; error codes in the body refine the reason.
func check(resp *notify.HTTPResponse, err error, secrets []string) error {
	if resp == nil {
		return err // transport failure, already classified
	}
	code := strings.TrimSpace(string(resp.Body))
	if err == nil {
		if resp.StatusCode == http.StatusOK && code == "ok" {
			return nil
		}
		err = &notify.DeliveryError{
			Reason: notify.ReasonClient, StatusCode: resp.StatusCode,
			Err: notify.ResponseError(resp.Body, secrets),
		}
	}
	var de *notify.DeliveryError
	if errors.As(err, &de) && !de.Temporary && authCodes[code] {
		de.Reason = notify.ReasonAuth
	}
	return err
}
