package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
	msgtemplate "github.com/alertgate/alertgate/router/template"
)

// PayloadVersion is the version of the JSON body; it changes only when a
// field changes meaning or goes away.
const PayloadVersion = "1"

// HeaderIdempotencyKey carries Message.IdempotencyKey.
const HeaderIdempotencyKey = "Idempotency-Key"

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = notify.DefaultHTTPTimeout

// Payload is the JSON body: the message plus the payload version.
type Payload struct {
	Version string `json:"version"`
	*notify.Message
}

// Config configures a webhook target.
type Config struct {
	// URL is the endpoint. It may carry a token, so it is a secret.
	URL config.Secret
	// Secret, when set, signs every body (see Sign).
	Secret config.Secret
	// Headers are added to every request (e.g. Authorization). Their
	// values are treated as secrets. Content-Type, Content-Length, Host,
	// Idempotency-Key and X-Alertgate-* are reserved.
	Headers map[string]string
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent in the User-Agent.
	Version string
	// Template, when set, is a Go text/template that renders the body
	// from the Message (fields as in the default JSON: .Kind, .Incident,
	// .Role, .Summary, .AckURL, .Alerts …) with the template functions
	// (json encodes a value as JSON). Without it the body is the default
	// Payload.
	Template string
	// Templates renders the summary and text fields (the registry always sets
	// it); nil sends the message's own Summary and Text.
	Templates notify.Templates
}

// Notifier posts messages as JSON.
type Notifier struct {
	ep      *notify.HTTPEndpoint
	secret  []byte
	headers http.Header
	tmpl    *template.Template // nil: the default JSON body
	human   notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a webhook Notifier. client is required; a nil log discards
// and a nil now means time.Now.
func New(cfg Config, client *http.Client, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	secrets := []string{cfg.Secret.Value()}
	for _, v := range cfg.Headers {
		secrets = append(secrets, v)
	}
	ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
		Kind: "webhook", URL: cfg.URL.Value(), Timeout: cfg.Timeout, Version: cfg.Version, Secrets: secrets,
	}, client, log, now)
	if err != nil {
		return nil, err
	}
	headers, err := customHeaders(cfg.Headers)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	n := &Notifier{ep: ep, secret: []byte(cfg.Secret.Value()), headers: headers, human: cfg.Templates}
	if cfg.Template != "" {
		if n.tmpl, err = template.New("webhook").Option("missingkey=error").Funcs(msgtemplate.Funcs).Parse(cfg.Template); err != nil {
			return nil, fmt.Errorf("webhook: template: %w", err)
		}
	}
	return n, nil
}

// render is the body for m: the template's output, or the default JSON.
func (n *Notifier) render(m *notify.Message) ([]byte, error) {
	if n.tmpl == nil {
		return Encode(m)
	}
	var buf bytes.Buffer
	if err := n.tmpl.Execute(&buf, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Notify posts m. Every kind is sent.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	_, err := n.post(ctx, m)
	return err
}

// Ticket posts a ticket message like Notify and returns the reference the
// receiver answered with: from a JSON body, the first of key, number, id
// (Jira answers key, GitHub number), followed by url or html_url when
// present — e.g. "OPS-123 https://jira.example.com/browse/OPS-123".
func (n *Notifier) Ticket(ctx context.Context, m *notify.Message) (string, error) {
	resp, err := n.post(ctx, m)
	if err != nil {
		return "", err
	}
	return TicketRef(resp.Body), nil
}

var _ notify.Ticketer = (*Notifier)(nil)

// TicketRef extracts a ticket reference from a JSON answer ("" when none).
func TicketRef(body []byte) string {
	var v map[string]any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			switch x := v[k].(type) {
			case string:
				if x != "" {
					return x
				}
			case float64:
				return strconv.FormatFloat(x, 'f', -1, 64)
			}
		}
		return ""
	}
	ref, url := str("key", "number", "id"), str("html_url", "url")
	switch {
	case ref != "" && url != "":
		return ref + " " + url
	case ref != "":
		return ref
	}
	return url
}

func (n *Notifier) post(ctx context.Context, m *notify.Message) (*notify.HTTPResponse, error) {
	m, _ = notify.Render(n.human, m, n.ep.Log)
	body, err := n.render(m)
	if err != nil {
		return nil, &notify.DeliveryError{Reason: notify.ReasonClient, Err: fmt.Errorf("webhook encode: %w", err)}
	}
	header := n.headers.Clone()
	if m.IdempotencyKey != "" {
		header.Set(HeaderIdempotencyKey, m.IdempotencyKey)
	}
	if len(n.secret) > 0 {
		ts := n.ep.Now().Unix()
		header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		header.Set(HeaderSignature, Sign(n.secret, ts, body))
	}
	resp, err := n.ep.Post(ctx, body, header)
	if err != nil {
		return nil, fmt.Errorf("webhook post: %w", err)
	}
	return resp, nil
}

// Encode returns the JSON body for m (see Payload), without HTML escaping
// and without a trailing newline.
func Encode(m *notify.Message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Payload{Version: PayloadVersion, Message: m}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// reserved headers are set by the notifier or by net/http.
var reserved = map[string]bool{
	"Content-Type":      true,
	"Content-Length":    true,
	"Host":              true,
	"Idempotency-Key":   true,
	"Transfer-Encoding": true,
}

// customHeaders validates configured headers. Errors name the header,
// never its value.
func customHeaders(in map[string]string) (http.Header, error) {
	h := make(http.Header, len(in))
	for name, v := range in {
		canon := http.CanonicalHeaderKey(strings.TrimSpace(name))
		switch {
		case !validHeaderName(canon):
			return nil, fmt.Errorf("header %q: invalid name", name)
		case reserved[canon] || strings.HasPrefix(canon, "X-Alertgate-"):
			return nil, fmt.Errorf("header %q: reserved", canon)
		case strings.ContainsAny(v, "\r\n\x00"):
			return nil, fmt.Errorf("header %q: invalid value", canon)
		}
		h.Set(canon, v)
	}
	return h, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
