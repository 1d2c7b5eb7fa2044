package opsgenie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Base URLs of the Opsgenie regions.
const (
	USURL = "https://api.opsgenie.com"
	EUURL = "https://api.eu.opsgenie.com"
)

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = notify.DefaultHTTPTimeout

// Config configures an Opsgenie target.
type Config struct {
	// Templates renders the title (message) and text (description) (the registry always sets
	// it); nil sends the message's own Summary and Text.
	Templates notify.Templates
	// APIKey is the key of an API integration (Authorization: GenieKey …).
	APIKey config.Secret
	// Region is "us" (the default) or "eu".
	Region string
	// URL overrides the region's base URL (a proxy, tests).
	URL string
	// Responders are added to every alert created.
	Responders []Responder
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent in the User-Agent.
	Version string
}

// Notifier creates, acknowledges and closes alerts in one Opsgenie
// account.
type Notifier struct {
	ep         *notify.HTTPEndpoint
	auth       string
	responders []responder
	tmpl       notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns an Opsgenie Notifier. client is required; a nil log
// discards and a nil now means time.Now.
func New(cfg Config, client *http.Client, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	key := cfg.APIKey.Value()
	if key == "" || strings.TrimSpace(key) != key {
		return nil, errors.New("opsgenie: api key missing or has surrounding spaces")
	}
	base := cfg.URL
	if base == "" {
		switch cfg.Region {
		case "", "us":
			base = USURL
		case "eu":
			base = EUURL
		default:
			return nil, fmt.Errorf("opsgenie: region %q is not us or eu", cfg.Region)
		}
	}
	auth := "GenieKey " + key
	ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
		Kind: "opsgenie", URL: base, Timeout: cfg.Timeout, Version: cfg.Version, Secrets: []string{key, auth},
	}, client, log, now)
	if err != nil {
		return nil, err
	}
	rs, err := responders(cfg.Responders)
	if err != nil {
		return nil, fmt.Errorf("opsgenie: %w", err)
	}
	return &Notifier{ep: ep, auth: auth, responders: rs, tmpl: cfg.Templates}, nil
}

// Notify creates the alert for a page and acknowledges or closes it for
// an acknowledgement or resolution. Other kinds are skipped (nil error).
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	var op, path string
	var payload any
	alias := Alias(m)
	switch m.Kind {
	case notify.KindPage:
		op, path = "create", "/v2/alerts"
	case notify.KindAcknowledge:
		op, path = "acknowledge", "/v2/alerts/"+url.PathEscape(alias)+"/acknowledge"
	case notify.KindResolve:
		op, path = "close", "/v2/alerts/"+url.PathEscape(alias)+"/close"
	default:
		n.ep.Log.Debug("opsgenie skips message kind",
			zap.String("kind", string(m.Kind)), zap.String("incident", m.Incident.Key))
		return nil
	}
	if alias == "" {
		return fmt.Errorf("opsgenie %s: %w", op,
			&notify.DeliveryError{Reason: notify.ReasonClient, Err: errors.New("message has no dedup key")})
	}
	if m.Kind == notify.KindPage {
		m, _ = notify.Render(n.tmpl, m, n.ep.Log)
		payload = n.create(m, alias)
	} else {
		payload = action(m)
	}
	if _, err := n.post(ctx, path, m.Kind != notify.KindPage, payload); err != nil {
		return fmt.Errorf("opsgenie %s: %w", op, err)
	}
	return nil
}

// post sends payload as JSON to path below the base URL, addressing the
// alert by alias when byAlias is set.
func (n *Notifier) post(ctx context.Context, escapedPath string, byAlias bool, payload any) (*notify.HTTPResponse, error) {
	body, err := marshal(payload)
	if err != nil {
		return nil, &notify.DeliveryError{Reason: notify.ReasonClient, Err: fmt.Errorf("encode: %w", err)}
	}
	u := n.endpoint(escapedPath, byAlias)
	req, err := notify.NewJSONRequest(ctx, u, body, n.ep.UserAgent)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", n.auth)
	return notify.SendHTTP(ctx, n.ep.Client, req, notify.SendOptions{
		Timeout: n.ep.Timeout, Now: n.ep.Now, Secrets: n.ep.Secrets,
	})
}

// endpoint returns the base URL with escapedPath appended (keeping any
// path prefix of an overriding URL) and, when byAlias is set,
// identifierType=alias in the query.
func (n *Notifier) endpoint(escapedPath string, byAlias bool) *url.URL {
	u := *n.ep.URL
	raw := strings.TrimSuffix(u.EscapedPath(), "/") + escapedPath
	u.RawPath = raw
	u.Path, _ = url.PathUnescape(raw) // raw is built from valid escapes
	if byAlias {
		q := u.Query()
		q.Set("identifierType", "alias")
		u.RawQuery = q.Encode()
	}
	return &u
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
