package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
)

// Limits of SendHTTP.
const (
	// MaxResponseBody is how much of a response body SendHTTP reads; the
	// rest is discarded so the connection can be reused.
	MaxResponseBody = 64 << 10
	// MaxSnippet is the longest response excerpt put in an error.
	MaxSnippet = 200
	// MaxRetryAfter caps the wait taken from a Retry-After header, so a
	// confused service can't park a delivery for years.
	MaxRetryAfter = 24 * time.Hour
	// DefaultHTTPTimeout bounds one attempt of an HTTPEndpoint configured
	// without a timeout.
	DefaultHTTPTimeout = 10 * time.Second
)

// NewHTTPClient is the client targets send with. It sets no overall or
// response-header timeout of its own: each attempt is bounded by its
// target's timeout (up to config.MaxTargetTimeout) through its context,
// so a configured 60s is 60s, not a transport's 30s.
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}}
}

// HTTPResponse is a target's answer as SendHTTP read it.
type HTTPResponse struct {
	StatusCode int
	Header     http.Header
	// Body holds at most MaxResponseBody bytes.
	Body []byte
}

// SendOptions tune one SendHTTP call.
type SendOptions struct {
	// Timeout bounds the attempt, reading the answer included, unless ctx
	// has a deadline already: the engine gives every attempt one (the
	// target's timeout), so an attempt is timed once. Zero leaves it to
	// ctx and the client.
	Timeout time.Duration
	// Now is the clock Retry-After dates are measured against; nil means
	// time.Now.
	Now func() time.Time
	// Secrets are replaced by "<secret>" wherever they would appear in an
	// error (some services echo the request in their error bodies). Values
	// shorter than 4 bytes are ignored.
	Secrets []string
}

// SendHTTP sends req with client, bounded by ctx and opts.Timeout, and
// reads at most MaxResponseBody bytes of the answer.
//
// A 2xx answer returns a nil error. Any other answer returns the response
// and a *DeliveryError classified by ClassifyResponse. A transport failure
// returns a nil response and a temporary *DeliveryError: ReasonTimeout for
// deadlines and timeouts, ReasonNetwork otherwise (a cancelled ctx included;
// errors.Is(err, context.Canceled) tells shutdown apart).
//
// Error text never holds the request URL beyond RedactURL's form, nor any
// of opts.Secrets.
func SendHTTP(ctx context.Context, client *http.Client, req *http.Request, opts SendOptions) (*HTTPResponse, error) {
	ctx, cancel := AttemptContext(ctx, opts.Timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, transportError(err, opts.Secrets)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if err != nil {
		return nil, transportError(fmt.Errorf("read response: %w", err), opts.Secrets)
	}
	// Drain a little more so keep-alive works; give up on huge bodies.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBody))

	r := &HTTPResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if de := ClassifyResponse(r, now(), opts.Secrets); de != nil {
		return r, de
	}
	return r, nil
}

// AttemptContext bounds one attempt by timeout unless ctx has a deadline
// already (the engine's per-attempt one) or timeout is zero or less.
func AttemptContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}

// ClassifyResponse returns nil for a 2xx answer and otherwise a
// *DeliveryError: 429 is temporary ReasonRateLimited with RetryAfter from
// the Retry-After header; 408 is temporary ReasonTimeout; 5xx is temporary
// ReasonServer; 401 and 403 are permanent ReasonAuth; other statuses are
// permanent ReasonClient. The error text holds a sanitized snippet of the
// body with secrets scrubbed.
func ClassifyResponse(r *HTTPResponse, now time.Time, secrets []string) *DeliveryError {
	code := r.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	de := &DeliveryError{StatusCode: code, Err: ResponseError(r.Body, secrets)}
	switch {
	case code == http.StatusTooManyRequests:
		de.Temporary, de.Reason = true, ReasonRateLimited
		de.RetryAfter = ParseRetryAfter(r.Header.Get("Retry-After"), now)
	case code == http.StatusRequestTimeout:
		de.Temporary, de.Reason = true, ReasonTimeout
	case code >= 500:
		de.Temporary, de.Reason = true, ReasonServer
		// 503 may carry Retry-After too.
		de.RetryAfter = ParseRetryAfter(r.Header.Get("Retry-After"), now)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		de.Reason = ReasonAuth
	default:
		de.Reason = ReasonClient
	}
	return de
}

// ResponseError describes an unwanted answer by its body: "response:
// no_service", or "empty response". DeliveryError adds the status.
func ResponseError(body []byte, secrets []string) error {
	if s := Snippet(body, secrets); s != "" {
		return fmt.Errorf("response: %s", s)
	}
	return errors.New("empty response")
}

// ParseRetryAfter parses a Retry-After value: delay seconds ("120") or an
// HTTP-date, measured from now. It returns 0 when the value is missing,
// malformed or in the past, and caps the result at MaxRetryAfter.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// Snippet returns a short, printable excerpt of a response body for error
// messages: at most MaxSnippet bytes on a rune boundary, control
// characters and runs of whitespace folded to one space, invalid UTF-8
// dropped, and every secret (4 bytes or longer) replaced by "<secret>".
func Snippet(body []byte, secrets []string) string {
	// Scrub the raw bytes, then again after cleaning (dropping bytes can
	// join a secret back together), and before cutting so a secret split
	// by the cut can't survive. The second pass skips invalid UTF-8
	// secrets, which could only match inside a rune and break it.
	s := strings.ToValidUTF8(Scrub(string(body), secrets), "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	s = Scrub(s, slices.DeleteFunc(slices.Clone(secrets), func(v string) bool { return !utf8.ValidString(v) }))
	if len(s) <= MaxSnippet {
		return s
	}
	const ellipsis = "…"
	cut := MaxSnippet - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// Scrub replaces every secret of 4 bytes or more in s by "<secret>",
// longest first.
func Scrub(s string, secrets []string) string {
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range sorted {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "<secret>")
		}
	}
	return s
}

// RedactURL returns the form of a target URL that may appear in errors
// and logs: scheme://host, then the first path segment only when more
// path follows (it is then a namespace like "services" or "v2"), then
// "/<redacted>" when anything was left out. User info, the query and the
// fragment never show. Slack, webhook and similar URLs carry their token
// in the path or query:
//
//	https://hooks.slack.com/services/T0/B0/x  → https://hooks.slack.com/services/<redacted>
//	https://webhook.site/5f0c…                → https://webhook.site/<redacted>
//	https://example.com/hook?token=x          → https://example.com/<redacted>
//
// An unparsable URL becomes "<redacted-url>".
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "<redacted-url>"
	}
	out := p.Scheme + "://" + p.Host
	path := strings.Trim(p.EscapedPath(), "/")
	if first, rest, more := strings.Cut(path, "/"); more && rest != "" {
		out += "/" + first
	}
	if path != "" || p.RawQuery != "" {
		out += "/<redacted>"
	}
	return out
}

// URLSecrets lists the parts of u that may hold a token, for
// SendOptions.Secrets: the whole URL, its path below the first segment
// and each of those segments, its query and query values, and its
// password.
func URLSecrets(u *url.URL) []string {
	out := []string{u.String(), u.RawQuery}
	if _, rest, ok := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/"); ok && rest != "" {
		out = append(out, rest, u.Path)
		out = append(out, strings.Split(rest, "/")...)
	}
	for _, vs := range u.Query() {
		out = append(out, vs...)
	}
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	return out
}

// ParseEndpoint parses and checks a target's http(s) URL. Its error names
// only RedactURL's form of the URL.
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// *url.Error quotes the whole URL: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid url %s: %w", RedactURL(raw), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid url %s: scheme must be http or https", RedactURL(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid url %s: no host", RedactURL(raw))
	}
	return u, nil
}

// NewJSONRequest builds a POST of body to u with Content-Type
// application/json and the given User-Agent. The body can be re-read, so
// redirects and retries of the request work.
func NewJSONRequest(ctx context.Context, u *url.URL, body []byte, userAgent string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, &DeliveryError{Reason: ReasonConfig, Err: redactURLError(err, nil)}
	}
	req.Header.Set("Content-Type", "application/json")
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	return req, nil
}

// UserAgent returns "alertgate/<version>" ("alertgate/dev" without one).
func UserAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "alertgate/" + version
}

// EndpointConfig configures an HTTPEndpoint.
type EndpointConfig struct {
	// Kind names the target type ("slack"); it prefixes setup errors.
	Kind string
	// URL is the target's http(s) URL; it may carry a token.
	URL string
	// Timeout bounds one attempt; zero or less means DefaultHTTPTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent in the User-Agent.
	Version string
	// Secrets are scrubbed from errors besides the URL's own (see
	// URLSecrets): tokens, signing keys, header values.
	Secrets []string
}

// HTTPEndpoint is what every HTTP notifier needs to post to its target:
// the parsed URL, the attempt timeout, the User-Agent, the secrets to
// scrub from errors, the client, a logger and a clock. Its fields are set
// by NewHTTPEndpoint and read-only afterwards.
type HTTPEndpoint struct {
	URL       *url.URL
	Timeout   time.Duration
	UserAgent string
	// Secrets holds URLSecrets(URL) followed by EndpointConfig.Secrets.
	Secrets []string

	Client *http.Client
	Log    *zap.Logger
	Now    func() time.Time
}

// NewHTTPEndpoint checks cfg and the dependencies of an HTTP target.
// client is required; a nil log discards and a nil now means time.Now.
// Errors start with cfg.Kind and never hold the URL beyond RedactURL's
// form.
func NewHTTPEndpoint(cfg EndpointConfig, client *http.Client, log *zap.Logger, now func() time.Time) (*HTTPEndpoint, error) {
	if client == nil {
		return nil, fmt.Errorf("%s: nil http client", cfg.Kind)
	}
	u, err := ParseEndpoint(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Kind, err)
	}
	if log == nil {
		log = zap.NewNop()
	}
	if now == nil {
		now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	return &HTTPEndpoint{
		URL:       u,
		Timeout:   timeout,
		UserAgent: UserAgent(cfg.Version),
		Secrets:   append(URLSecrets(u), cfg.Secrets...),
		Client:    client,
		Log:       log,
		Now:       now,
	}, nil
}

// Post sends body as JSON to the endpoint (see NewJSONRequest) with
// header's fields added, which replace any of the same name, and returns
// SendHTTP's result.
func (e *HTTPEndpoint) Post(ctx context.Context, body []byte, header http.Header) (*HTTPResponse, error) {
	req, err := NewJSONRequest(ctx, e.URL, body, e.UserAgent)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return SendHTTP(ctx, e.Client, req, SendOptions{Timeout: e.Timeout, Now: e.Now, Secrets: e.Secrets})
}

// transportError classifies an error from sending a request.
func transportError(err error, secrets []string) *DeliveryError {
	de := &DeliveryError{Temporary: true, Reason: ReasonNetwork, Err: redactURLError(err, secrets)}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		de.Reason = ReasonTimeout
	}
	return de
}

// redactURLError rewrites the *url.Error net/http returns, which quotes the
// full URL, as "<op> <redacted url>: <cause>", and scrubs secrets from the
// text. errors.Is and errors.As still see the cause.
func redactURLError(err error, secrets []string) error {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = fmt.Sprintf("%s %s: %v", ue.Op, RedactURL(ue.URL), ue.Err)
		err = ue.Err
	}
	return &redactedError{msg: Scrub(msg, secrets), err: err}
}

// redactedError carries a cleaned message and the cause for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// IsHTTPURL reports whether s is an absolute http(s) URL with a host:
// what a target's url must be.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// CheckURL checks an optional url setting of a target type: when set,
// an absolute http(s) URL.
func CheckURL(key string, u config.Secret) error {
	if u != "" && !IsHTTPURL(u.Value()) {
		return Errorf(key, "url must be an absolute http(s) URL")
	}
	return nil
}

// RequireURL checks the url setting of a type that posts to it: given
// (or url_file) and an absolute http(s) URL.
func RequireURL(typ string, u config.Secret) error {
	if u == "" {
		return Errorf("url", "url (or url_file) is required for type %s", typ)
	}
	return CheckURL("url", u)
}
