package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
)

// PayloadVersion is the version of the JSON body; it changes only when a
// field changes meaning or goes away.
const PayloadVersion = "1"

// HeaderIdempotencyKey carries Message.IdempotencyKey.
const HeaderIdempotencyKey = "Idempotency-Key"

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Payload is the JSON body: the message plus the payload version.
type Payload struct {
	Version string `json:"version"`
	*router.Message
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
}

// Notifier posts messages as JSON.
type Notifier struct {
	url     *url.URL
	secret  []byte
	headers http.Header
	timeout time.Duration
	ua      string
	secrets []string

	client *http.Client
	log    *zap.Logger
	now    func() time.Time
}

var _ router.Notifier = (*Notifier)(nil)

// New returns a webhook Notifier. client is required; a nil log discards
// and a nil now means time.Now.
func New(cfg Config, client *http.Client, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	if client == nil {
		return nil, errors.New("webhook: nil http client")
	}
	u, err := router.ParseEndpoint(cfg.URL.Value())
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	headers, err := customHeaders(cfg.Headers)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if log == nil {
		log = zap.NewNop()
	}
	if now == nil {
		now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	n := &Notifier{
		url:     u,
		secret:  []byte(cfg.Secret.Value()),
		headers: headers,
		timeout: timeout,
		ua:      router.UserAgent(cfg.Version),
		client:  client,
		log:     log,
		now:     now,
	}
	n.secrets = router.URLSecrets(u)
	n.secrets = append(n.secrets, cfg.Secret.Value())
	for _, v := range cfg.Headers {
		n.secrets = append(n.secrets, v)
	}
	return n, nil
}

// Notify posts m. Every kind is sent.
func (n *Notifier) Notify(ctx context.Context, m *router.Message) error {
	body, err := Encode(m)
	if err != nil {
		return &router.DeliveryError{Reason: router.ReasonClient, Err: fmt.Errorf("webhook encode: %w", err)}
	}
	req, err := router.NewJSONRequest(ctx, n.url, body, n.ua)
	if err != nil {
		return fmt.Errorf("webhook post: %w", err)
	}
	for k, vs := range n.headers {
		req.Header[k] = vs
	}
	if m.IdempotencyKey != "" {
		req.Header.Set(HeaderIdempotencyKey, m.IdempotencyKey)
	}
	if len(n.secret) > 0 {
		ts := n.now().Unix()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(HeaderSignature, Sign(n.secret, ts, body))
	}
	resp, err := router.SendHTTP(ctx, n.client, req, router.SendOptions{
		Timeout: n.timeout, Now: n.now, Secrets: n.secrets,
	})
	if err != nil {
		return fmt.Errorf("webhook post: %w", err)
	}
	n.log.Debug("webhook delivered",
		zap.String("kind", string(m.Kind)),
		zap.String("incident", m.Incident.Key),
		zap.String("idempotency_key", m.IdempotencyKey),
		zap.Int("status_code", resp.StatusCode))
	return nil
}

// Encode returns the JSON body for m (see Payload), without HTML escaping
// and without a trailing newline.
func Encode(m *router.Message) ([]byte, error) {
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
