package notify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/router/notify"
)

var sendNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestClassifyResponse(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		wantNil    bool
		temporary  bool
		reason     string
		wait       time.Duration
	}{
		{name: "200 ok", status: 200, wantNil: true},
		{name: "202 accepted", status: 202, wantNil: true},
		{name: "204 no content", status: 204, wantNil: true},
		{name: "304 not followed", status: 304, reason: notify.ReasonClient},
		{name: "400 bad request", status: 400, body: `{"message":"Event object is invalid"}`, reason: notify.ReasonClient},
		{name: "401 unauthorized", status: 401, reason: notify.ReasonAuth},
		{name: "403 forbidden", status: 403, reason: notify.ReasonAuth},
		{name: "404 not found", status: 404, body: "no_service", reason: notify.ReasonClient},
		{name: "408 request timeout", status: 408, temporary: true, reason: notify.ReasonTimeout},
		{name: "410 gone", status: 410, body: "channel_is_archived", reason: notify.ReasonClient},
		{name: "413 too large", status: 413, reason: notify.ReasonClient},
		{name: "429 retry-after seconds", status: 429, retryAfter: "30", temporary: true, reason: notify.ReasonRateLimited, wait: 30 * time.Second},
		{name: "429 retry-after http-date", status: 429, retryAfter: sendNow.Add(90 * time.Second).Format(http.TimeFormat), temporary: true, reason: notify.ReasonRateLimited, wait: 90 * time.Second},
		{name: "429 without retry-after", status: 429, temporary: true, reason: notify.ReasonRateLimited},
		{name: "500 internal", status: 500, body: "rollup_error", temporary: true, reason: notify.ReasonServer},
		{name: "502 bad gateway", status: 502, temporary: true, reason: notify.ReasonServer},
		{name: "503 with retry-after", status: 503, retryAfter: "10", temporary: true, reason: notify.ReasonServer, wait: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &notify.HTTPResponse{StatusCode: tt.status, Header: http.Header{}, Body: []byte(tt.body)}
			if tt.retryAfter != "" {
				r.Header.Set("Retry-After", tt.retryAfter)
			}
			de := notify.ClassifyResponse(r, sendNow, nil)
			if tt.wantNil {
				require.Nil(t, de)
				return
			}
			require.NotNil(t, de)
			require.Equal(t, tt.temporary, de.Temporary)
			require.Equal(t, tt.reason, de.Reason)
			require.Equal(t, tt.status, de.StatusCode)
			require.Equal(t, tt.wait, de.RetryAfter)
			if tt.body != "" {
				require.Contains(t, de.Error(), tt.body)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{name: "empty", in: "", want: 0},
		{name: "zero", in: "0", want: 0},
		{name: "negative", in: "-5", want: 0},
		{name: "seconds", in: "120", want: 2 * time.Minute},
		{name: "seconds with spaces", in: " 7 ", want: 7 * time.Second},
		{name: "huge seconds capped", in: "99999999999999", want: notify.MaxRetryAfter},
		{name: "imf-fixdate", in: "Sun, 01 Mar 2026 12:05:00 GMT", want: 5 * time.Minute},
		{name: "rfc850 date", in: "Sunday, 01-Mar-26 12:00:30 GMT", want: 30 * time.Second},
		{name: "date in the past", in: "Sun, 01 Mar 2026 11:00:00 GMT", want: 0},
		{name: "date far ahead capped", in: "Fri, 01 Jan 2100 00:00:00 GMT", want: notify.MaxRetryAfter},
		{name: "garbage", in: "soon", want: 0},
		{name: "fraction", in: "1.5", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, notify.ParseRetryAfter(tt.in, sendNow))
		})
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		secrets []string
		want    string
	}{
		{name: "empty", body: "", want: ""},
		{name: "plain", body: "no_service", want: "no_service"},
		{name: "whitespace and controls folded", body: "  bad\r\n\tpayload\x00\x07 here ", want: "bad payload here"},
		{name: "invalid utf-8 dropped", body: "ok\xff\xfe!", want: "ok!"},
		{name: "secret scrubbed", body: `{"echo":"Bearer s3cr3t-token"}`, secrets: []string{"s3cr3t-token"}, want: `{"echo":"Bearer <secret>"}`},
		{name: "short secret ignored", body: "abc def", secrets: []string{"abc"}, want: "abc def"},
		{name: "longest secret first", body: "x=https://h/p/tok123", secrets: []string{"tok123", "https://h/p/tok123"}, want: "x=<secret>"},
		{name: "long body cut", body: strings.Repeat("a", 500), want: strings.Repeat("a", 197) + "…"},
		{name: "cut on rune boundary", body: strings.Repeat("é", 150), want: strings.Repeat("é", 98) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notify.Snippet([]byte(tt.body), tt.secrets)
			require.Equal(t, tt.want, got)
			require.LessOrEqual(t, len(got), notify.MaxSnippet)
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://hooks.slack.com/services/<redacted>"},
		{"https://events.pagerduty.com/v2/enqueue", "https://events.pagerduty.com/v2/<redacted>"},
		{"https://example.com/hook?token=abc", "https://example.com/<redacted>"},
		{"https://webhook.site/5f0c2c7e-1111-2222-3333-444455556666", "https://webhook.site/<redacted>"},
		{"https://user:pass@example.com:8443/api/hook", "https://example.com:8443/api/<redacted>"},
		{"https://user:pass@example.com:8443", "https://example.com:8443"},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
		{"https://example.com/?q=1", "https://example.com/<redacted>"},
		{"https://example.com/#frag", "https://example.com"},
		{"not a url", "<redacted-url>"},
		{"https://ex ample.com/secret", "<redacted-url>"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, notify.RedactURL(tt.in))
		})
	}
}

func TestParseEndpointHidesURL(t *testing.T) {
	tests := []struct{ name, in string }{
		{name: "bad host", in: "https://ho st/services/SECRETTOKEN123"},
		{name: "bad scheme", in: "ftp://example.com/SECRETTOKEN123"},
		{name: "no host", in: "https:///SECRETTOKEN123"},
		{name: "bad escape", in: "https://example.com/SECRETTOKEN123%zz"},
		{name: "control char", in: "https://example.com/SECRETTOKEN123\x7f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.ParseEndpoint(tt.in)
			require.Error(t, err)
			require.NotContains(t, err.Error(), "SECRETTOKEN123")
		})
	}
}

const sendSecretURL = "https://hooks.example.com/services/T0/B0/SECRETTOKEN123?sig=QUERYSECRET456"

func sendMockClient(t *testing.T, r httpmock.Responder) *http.Client {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, sendSecretURL, r)
	return &http.Client{Transport: mt}
}

func sendPost(t *testing.T, ctx context.Context, c *http.Client, opts notify.SendOptions) (*notify.HTTPResponse, error) {
	t.Helper()
	u, err := notify.ParseEndpoint(sendSecretURL)
	require.NoError(t, err)
	req, err := notify.NewJSONRequest(ctx, u, []byte(`{}`), notify.UserAgent("1.2.3"))
	require.NoError(t, err)
	if opts.Secrets == nil {
		opts.Secrets = notify.URLSecrets(u)
	}
	return notify.SendHTTP(ctx, c, req, opts)
}

func TestSendHTTPTransportErrors(t *testing.T) {
	expired, cancelExpired := context.WithDeadline(context.Background(), sendNow)
	defer cancelExpired()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	blockUntilDone := func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	tests := []struct {
		name      string
		ctx       context.Context
		responder httpmock.Responder
		timeout   time.Duration
		reason    string
		is        error
	}{
		{name: "connection refused", ctx: context.Background(), responder: httpmock.NewErrorResponder(errors.New("dial tcp: connection refused")), reason: notify.ReasonNetwork},
		{name: "ctx deadline passed", ctx: expired, responder: blockUntilDone, reason: notify.ReasonTimeout, is: context.DeadlineExceeded},
		{name: "per-attempt timeout", ctx: context.Background(), responder: blockUntilDone, timeout: time.Millisecond, reason: notify.ReasonTimeout, is: context.DeadlineExceeded},
		{name: "ctx cancelled", ctx: cancelled, responder: blockUntilDone, reason: notify.ReasonNetwork, is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := sendPost(t, tt.ctx, sendMockClient(t, tt.responder), notify.SendOptions{Timeout: tt.timeout})
			require.Nil(t, resp)
			var de *notify.DeliveryError
			require.ErrorAs(t, err, &de)
			require.True(t, de.Temporary)
			require.Equal(t, tt.reason, de.Reason)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.NotContains(t, err.Error(), "SECRETTOKEN123")
			require.NotContains(t, err.Error(), "QUERYSECRET456")
			require.Contains(t, err.Error(), "https://hooks.example.com/services/<redacted>")
		})
	}
}

func TestSendHTTPReadsAtMostLimit(t *testing.T) {
	big := strings.Repeat("x", notify.MaxResponseBody+1000)
	resp, err := sendPost(t, context.Background(), sendMockClient(t, httpmock.NewStringResponder(200, big)), notify.SendOptions{})
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, resp.Body, notify.MaxResponseBody)
}

func TestSendHTTPStatusErrorScrubsEcho(t *testing.T) {
	// A sloppy service echoes the request URL and headers in its error.
	echo := `{"error":"bad","url":"` + sendSecretURL + `","auth":"Bearer HEADERSECRET789"}`
	r := httpmock.NewStringResponder(400, echo)
	resp, err := sendPost(t, context.Background(), sendMockClient(t, r), notify.SendOptions{
		Secrets: []string{"HEADERSECRET789", "SECRETTOKEN123", "QUERYSECRET456"},
	})
	require.NotNil(t, resp)
	require.Equal(t, 400, resp.StatusCode)
	de := notify.AsDeliveryError(err)
	require.False(t, de.Temporary)
	require.Equal(t, notify.ReasonClient, de.Reason)
	for _, s := range []string{"HEADERSECRET789", "SECRETTOKEN123", "QUERYSECRET456"} {
		require.NotContains(t, err.Error(), s)
	}
	require.Contains(t, err.Error(), "<secret>")
}

func TestSendHTTPRetryAfterUsesClock(t *testing.T) {
	r := httpmock.NewStringResponder(429, "slow down").HeaderSet(http.Header{
		"Retry-After": {sendNow.Add(2 * time.Minute).Format(http.TimeFormat)},
	})
	_, err := sendPost(t, context.Background(), sendMockClient(t, r), notify.SendOptions{Now: func() time.Time { return sendNow }})
	de := notify.AsDeliveryError(err)
	require.Equal(t, notify.ReasonRateLimited, de.Reason)
	require.Equal(t, 2*time.Minute, de.RetryAfter)
}

func TestUserAgent(t *testing.T) {
	require.Equal(t, "alertgate/1.2.3", notify.UserAgent("1.2.3"))
	require.Equal(t, "alertgate/dev", notify.UserAgent(""))
}

func FuzzSnippet(f *testing.F) {
	f.Add([]byte("no_service"), "SECRET")
	f.Add([]byte("token=SECRET\r\nmore\x00"), "SECRET")
	f.Add([]byte(strings.Repeat("é", 300)), "éééé")
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		got := notify.Snippet(body, []string{secret})
		require.LessOrEqual(t, len(got), notify.MaxSnippet)
		require.True(t, utf8.ValidString(got))
		for _, r := range got {
			require.False(t, unicode.IsControl(r), "control character %q", r)
		}
		if len(secret) >= 4 && utf8.ValidString(secret) && !strings.ContainsFunc(secret, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>", r)
		}) {
			require.NotContains(t, got, secret)
		}
	})
}

func TestNewHTTPEndpointRejects(t *testing.T) {
	client := &http.Client{Transport: httpmock.NewMockTransport()}
	tests := []struct {
		name   string
		url    string
		client *http.Client
		want   string
	}{
		{name: "nil client", url: sendSecretURL, want: "slack: nil http client"},
		{name: "no scheme", url: "hooks.example.com/services/T0/B0/SECRETTOKEN123", client: client, want: "slack: invalid url"},
		{name: "ftp scheme", url: "ftp://hooks.example.com/services/T0/B0/SECRETTOKEN123", client: client, want: "slack: invalid url ftp://hooks.example.com/services/<redacted>: scheme must be http or https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{Kind: "slack", URL: tt.url}, tt.client, nil, nil)
			require.Nil(t, ep)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "SECRETTOKEN123")
		})
	}
}

func TestNewHTTPEndpointDefaults(t *testing.T) {
	client := &http.Client{Transport: httpmock.NewMockTransport()}
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{name: "zero timeout", want: notify.DefaultHTTPTimeout},
		{name: "negative timeout", timeout: -time.Second, want: notify.DefaultHTTPTimeout},
		{name: "set timeout", timeout: 3 * time.Second, want: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
				Kind: "webhook", URL: " " + sendSecretURL + " ", Timeout: tt.timeout, Version: "1.2.3", Secrets: []string{"HEADERSECRET789"},
			}, client, nil, nil)
			require.NoError(t, err)
			require.Equal(t, sendSecretURL, ep.URL.String())
			require.Equal(t, tt.want, ep.Timeout)
			require.Equal(t, "alertgate/1.2.3", ep.UserAgent)
			require.Equal(t, append(notify.URLSecrets(ep.URL), "HEADERSECRET789"), ep.Secrets)
			require.Same(t, client, ep.Client)
			require.NotNil(t, ep.Log)
			require.NotNil(t, ep.Now)
		})
	}
}

func TestHTTPEndpointPost(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		wantUA string
	}{
		{name: "no header", wantUA: "alertgate/1.2.3"},
		{
			name:   "header added and replacing",
			header: http.Header{"Authorization": {"Bearer HEADERSECRET789"}, "User-Agent": {"custom/1"}},
			wantUA: "custom/1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			echo := func(req *http.Request) (*http.Response, error) {
				got = req
				return httpmock.NewStringResponse(400, req.URL.String()+" "+req.Header.Get("Authorization")), nil
			}
			ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
				Kind: "webhook", URL: sendSecretURL, Version: "1.2.3", Secrets: []string{"HEADERSECRET789"},
			}, sendMockClient(t, echo), nil, func() time.Time { return sendNow })
			require.NoError(t, err)

			resp, err := ep.Post(context.Background(), []byte(`{}`), tt.header)

			require.Equal(t, 400, resp.StatusCode)
			require.Equal(t, "application/json", got.Header.Get("Content-Type"))
			require.Equal(t, tt.wantUA, got.Header.Get("User-Agent"))
			require.Equal(t, tt.header.Get("Authorization"), got.Header.Get("Authorization"))
			require.Equal(t, notify.ReasonClient, notify.AsDeliveryError(err).Reason)
			require.Contains(t, err.Error(), "<secret>")
			for _, s := range []string{"HEADERSECRET789", "SECRETTOKEN123", "QUERYSECRET456"} {
				require.NotContains(t, err.Error(), s)
			}
		})
	}
}

func TestHTTPEndpointPostTimesOut(t *testing.T) {
	block := func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	ep, err := notify.NewHTTPEndpoint(notify.EndpointConfig{
		Kind: "slack", URL: sendSecretURL, Timeout: time.Millisecond,
	}, sendMockClient(t, block), nil, nil)
	require.NoError(t, err)

	resp, err := ep.Post(context.Background(), []byte(`{}`), nil)

	require.Nil(t, resp)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, notify.ReasonTimeout, notify.AsDeliveryError(err).Reason)
}

// The targets' client bounds nothing itself: the attempt's timeout (the
// target's, up to config.MaxTargetTimeout) is the only limit, so a target
// configured with timeout 60s is given 60 s (a transport's 30 s response
// header timeout used to cut it at 30 s).
func TestNewHTTPClientLeavesTheTimeoutToTheAttempt(t *testing.T) {
	c := notify.NewHTTPClient()
	require.Zero(t, c.Timeout)
	tr, ok := c.Transport.(*http.Transport)
	require.True(t, ok)
	require.Zero(t, tr.ResponseHeaderTimeout, "no transport timeout shorter than a target's")

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		timeout time.Duration
		ok      bool
	}{
		{"an answer within the timeout", 2 * time.Second, true},
		{"the timeout fires at its time", 100 * time.Millisecond, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL, nil)
			require.NoError(t, err)
			start := time.Now()
			_, err = notify.SendHTTP(context.Background(), c, req, notify.SendOptions{Timeout: tc.timeout})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Equal(t, notify.ReasonTimeout, notify.AsDeliveryError(err).Reason)
			require.Less(t, time.Since(start), 250*time.Millisecond)
		})
	}
}
