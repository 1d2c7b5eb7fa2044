package statuspage

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

// DefaultURL is the base URL of the Statuspage REST API.
const DefaultURL = "https://api.statuspage.io/v1"

// StatusRateLimited is Statuspage's own "rate limited" answer, which it
// sends besides 429.
const StatusRateLimited = 420

// Config configures a Statuspage target.
type Config struct {
	// Templates renders the title (incident name) and text (update body) (the registry always sets
	// it); nil sends the message's own Summary and Text.
	Templates notify.Templates
	// APIKey is a Statuspage API key (Authorization: OAuth …).
	APIKey config.Secret
	// PageID is the id of the status page incidents are opened on.
	PageID string
	// ComponentIDs are the components an incident affects; may be empty.
	ComponentIDs []string
	// URL overrides DefaultURL (a proxy, tests).
	URL string
	// Timeout bounds one attempt; zero means notify.DefaultHTTPTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent in the User-Agent.
	Version string
}

// Notifier opens, updates and resolves incidents on one Statuspage page.
type Notifier struct {
	ep         *notify.HTTPEndpoint
	auth       string
	pageID     string
	components []string
	tmpl       notify.Templates
}

var (
	_ notify.Notifier   = (*Notifier)(nil)
	_ notify.Referencer = (*Notifier)(nil)
)

// New returns a Statuspage Notifier. client is required; a nil log
// discards and a nil now means time.Now.
func New(cfg Config, client *http.Client, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	key := cfg.APIKey.Value()
	if key == "" || strings.TrimSpace(key) != key {
		return nil, errors.New("statuspage: api key missing or has surrounding spaces")
	}
	if cfg.PageID == "" || strings.TrimSpace(cfg.PageID) != cfg.PageID {
		return nil, errors.New("statuspage: page id missing or has surrounding spaces")
	}
	for i, id := range cfg.ComponentIDs {
		if id == "" || strings.TrimSpace(id) != id {
			return nil, fmt.Errorf("statuspage: component id %d empty or has surrounding spaces", i)
		}
	}
	base := cfg.URL
	if base == "" {
		base = DefaultURL
	}
	auth := "OAuth " + key
	ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
		Kind: "statuspage", URL: base, Timeout: cfg.Timeout, Version: cfg.Version, Secrets: []string{key, auth},
	}, client, log, now)
	if err != nil {
		return nil, err
	}
	return &Notifier{
		ep:         ep,
		auth:       auth,
		pageID:     cfg.PageID,
		components: append([]string(nil), cfg.ComponentIDs...),
		tmpl:       cfg.Templates,
	}, nil
}

// Notify delivers m and drops the reference; see Deliver.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	_, err := n.Deliver(ctx, m)
	return err
}

// Deliver opens a Statuspage incident for the first page or info message
// of an incident (m.Ref empty) and returns its id; with m.Ref set it
// updates that incident for info, acknowledge and resolve messages and
// returns m.Ref. Messages with nothing to do send no request and return
// "" and nil, which keeps any stored reference.
func (n *Notifier) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	m, _ = notify.Render(n.tmpl, m, n.ep.Log)
	if m.Ref == "" {
		if m.Kind != notify.KindPage && m.Kind != notify.KindInfo {
			n.skip(m)
			return "", nil
		}
		return n.open(ctx, m)
	}
	var op string
	switch m.Kind {
	case notify.KindInfo:
		op = "update"
	case notify.KindAcknowledge:
		op = "acknowledge"
	case notify.KindResolve:
		op = "resolve"
	default:
		n.skip(m)
		return "", nil
	}
	if _, err := n.send(ctx, http.MethodPatch, "/incidents/"+url.PathEscape(m.Ref), n.update(m)); err != nil {
		return "", fmt.Errorf("statuspage %s: %w", op, err)
	}
	return m.Ref, nil
}

// open creates the Statuspage incident and returns its id.
func (n *Notifier) open(ctx context.Context, m *notify.Message) (string, error) {
	resp, err := n.send(ctx, http.MethodPost, "/incidents", n.create(m))
	if err != nil {
		return "", fmt.Errorf("statuspage create: %w", err)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &created); err != nil || created.ID == "" {
		// Retrying would open a second incident: fail for good.
		return "", fmt.Errorf("statuspage create: %w", &notify.DeliveryError{
			Reason: notify.ReasonClient, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("no incident id in %w", notify.ResponseError(resp.Body, n.ep.Secrets)),
		})
	}
	return created.ID, nil
}

func (n *Notifier) skip(m *notify.Message) {
	n.ep.Log.Debug("statuspage skips message",
		zap.String("kind", string(m.Kind)),
		zap.String("incident", m.Incident.Key),
		zap.Bool("has_ref", m.Ref != ""))
}

// send sends payload as JSON with method to escapedPath below the page's
// URL and classifies the answer, 420 included.
func (n *Notifier) send(ctx context.Context, method, escapedPath string, payload any) (*notify.HTTPResponse, error) {
	body, err := marshal(payload)
	if err != nil {
		return nil, &notify.DeliveryError{Reason: notify.ReasonClient, Err: fmt.Errorf("encode: %w", err)}
	}
	req, err := notify.NewJSONRequest(ctx, n.endpoint(escapedPath), body, n.ep.UserAgent)
	if err != nil {
		return nil, err
	}
	req.Method = method
	req.Header.Set("Authorization", n.auth)
	resp, err := notify.SendHTTP(ctx, n.ep.Client, req, notify.SendOptions{
		Timeout: n.ep.Timeout, Now: n.ep.Now, Secrets: n.ep.Secrets,
	})
	var de *notify.DeliveryError
	if resp != nil && resp.StatusCode == StatusRateLimited && errors.As(err, &de) {
		de.Temporary, de.Reason = true, notify.ReasonRateLimited
		de.RetryAfter = notify.ParseRetryAfter(resp.Header.Get("Retry-After"), n.ep.Now())
	}
	return resp, err
}

// endpoint returns the base URL followed by /pages/{page_id} and
// escapedPath, keeping any path prefix of the base URL.
func (n *Notifier) endpoint(escapedPath string) *url.URL {
	u := *n.ep.URL
	raw := strings.TrimSuffix(u.EscapedPath(), "/") + "/pages/" + url.PathEscape(n.pageID) + escapedPath
	u.RawPath = raw
	u.Path, _ = url.PathUnescape(raw) // raw is built from valid escapes
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
