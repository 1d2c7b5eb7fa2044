package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

const (
	linkTestKey = "link-key-3f9c1a7e5b2d4c6a8e0f1b3d5c7a9e1f"
	linkTTL     = time.Hour
	formType    = "application/x-www-form-urlencoded"
)

// linkHarness is a harness whose server signs links with a settable clock.
type linkHarness struct {
	*harness
	links *router.AckLinks
	// clk is the links' clock; tests move it between requests.
	clk *clocktest.Clock
}

func newLinkHarness(t *testing.T, cfg config.Server) *linkHarness {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	lh := &linkHarness{
		harness: &harness{
			logs: logs,
			reg:  prometheus.NewRegistry(),
			ing:  &fakeIngester{},
			inc:  &fakeIncidents{detail: linkIncident(alert.IncidentTriggered)},
			act:  &fakeActions{},
		},
		clk: clocktest.New(testNow),
	}
	lh.links = router.NewAckLinks([]byte(linkTestKey), linkTTL, lh.clk.Now)
	srv, err := New(cfg, nil, Deps{
		Ingester:   lh.ing,
		Incidents:  lh.inc,
		Actions:    lh.act,
		AckLinks:   lh.links,
		NewDecoder: testDecoder,
		Logger:     zap.New(core),
		Registry:   lh.reg,
		Now:        func() time.Time { return testNow },
	})
	require.NoError(t, err)
	lh.srv = srv
	return lh
}

// linkIncident is INC-7 with a title that must be escaped.
func linkIncident(status alert.IncidentStatus) *store.IncidentDetail {
	return &store.IncidentDetail{Incident: alert.Incident{
		ID: 7, Key: "INC-7", Severity: alert.P1, Status: status, Service: "checkout",
		Title: `<script>alert(1)</script> disk "full" on db-1`,
	}}
}

func linkGet(token string) *http.Request { return newRequest(http.MethodGet, "/ack/"+token, "") }

func linkPost(token, actor string) *http.Request {
	body := ""
	if actor != "" {
		body = url.Values{"actor": {actor}}.Encode()
	}
	return newRequest(http.MethodPost, "/ack/"+token, body, "Content-Type", formType)
}

// requireLinkHeaders checks the headers every link page carries.
func requireLinkHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	require.Equal(t, "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
		resp.Header.Get("Content-Security-Policy"))
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
}

func TestAckLinkGetShowsConfirmPage(t *testing.T) {
	tests := []struct {
		name       string
		status     alert.IncidentStatus
		action     string
		wantText   string
		wantButton string // "" means no form
	}{
		{"ack triggered", alert.IncidentTriggered, router.ActionAck, "Acknowledge INC-7?", "Acknowledge INC-7"},
		{"resolve triggered", alert.IncidentTriggered, router.ActionResolve, "Resolve INC-7?", "Resolve INC-7"},
		{"resolve acknowledged", alert.IncidentAcknowledged, router.ActionResolve, "Resolve INC-7?", "Resolve INC-7"},
		{"ack acknowledged", alert.IncidentAcknowledged, router.ActionAck, "Acknowledged by bob.", ""},
		{"ack resolved", alert.IncidentResolved, router.ActionAck, "INC-7 is already resolved", ""},
		{"resolve resolved", alert.IncidentResolved, router.ActionResolve, "Resolved by carol.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLinkHarness(t, config.Server{})
			h.inc.detail = linkIncident(tt.status)
			h.inc.detail.Incident.AcknowledgedBy = "bob"
			h.inc.detail.Incident.ResolvedBy = "carol"

			resp, body := h.do(t, linkGet(h.links.Token(7, tt.action)))
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			requireLinkHeaders(t, resp)
			require.Equal(t, int64(7), h.inc.lastID)
			require.Empty(t, h.act.calls, "a GET never changes anything")
			require.Contains(t, body, tt.wantText)
			require.Contains(t, body, `<dd><a href="/incidents/INC-7" data-testid="link-incident">INC-7</a></dd>`, "leads to the console's page")
			require.Contains(t, body, `<dd><span class="sev sev-p1">P1 High</span></dd>`)
			require.Contains(t, body, `<link rel="stylesheet" href="/console/static/app.css">`, "the console's look")
			require.Contains(t, body, "<dd>"+string(tt.status)+"</dd>")
			require.Contains(t, body, "<dd>checkout</dd>")
			require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt; disk &#34;full&#34; on db-1")
			require.NotContains(t, body, "<script>")
			if tt.wantButton == "" {
				require.NotContains(t, body, "<form")
				return
			}
			require.Contains(t, body, `<form method="post">`)
			require.Contains(t, body, `name="actor"`)
			require.Contains(t, body, `<button type="submit" class="danger" data-testid="link-confirm">`+tt.wantButton+`</button>`)
		})
	}
}

func TestAckLinkPostActs(t *testing.T) {
	tests := []struct {
		name      string
		action    string
		actor     string
		wantCall  actionCall
		wantTitle string
	}{
		{"ack with actor", router.ActionAck, "alice",
			actionCall{verb: "ack", id: 7, actor: "alice", note: "via one-click link"}, "INC-7 acknowledged by alice"},
		{"ack without actor", router.ActionAck, "",
			actionCall{verb: "ack", id: 7, actor: "one-click link", note: "via one-click link"}, "INC-7 acknowledged by one-click link"},
		{"blank actor", router.ActionAck, "   ",
			actionCall{verb: "ack", id: 7, actor: "one-click link", note: "via one-click link"}, "INC-7 acknowledged by one-click link"},
		{"resolve", router.ActionResolve, " carol ",
			actionCall{verb: "resolve", id: 7, actor: "carol", note: "via one-click link"}, "INC-7 resolved by carol"},
		{"actor escaped", router.ActionAck, "<b>eve</b>",
			actionCall{verb: "ack", id: 7, actor: "<b>eve</b>", note: "via one-click link"}, "INC-7 acknowledged by &lt;b&gt;eve&lt;/b&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLinkHarness(t, config.Server{})
			resp, body := h.do(t, linkPost(h.links.Token(7, tt.action), tt.actor))
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			requireLinkHeaders(t, resp)
			require.Equal(t, []actionCall{tt.wantCall}, h.act.calls)
			require.Contains(t, body, "<h1>"+tt.wantTitle+"</h1>")
			require.NotContains(t, body, "<form")
			require.Contains(t, h.logs.FilterMessage("one-click link used").All()[0].ContextMap(),
				"incident")
		})
	}
}

// whoActions answers like the store when someone else acknowledged first.
type whoActions struct{ fakeActions }

func (w *whoActions) Acknowledge(ctx context.Context, id int64, actor, note string) (*alert.Incident, error) {
	inc, err := w.fakeActions.Acknowledge(ctx, id, actor, note)
	if inc != nil {
		inc.AcknowledgedBy = "bob"
	}
	return inc, err
}

func TestAckLinkPostNamesFirstResponder(t *testing.T) {
	h := newLinkHarness(t, config.Server{})
	w := &whoActions{}
	srv, err := New(config.Server{}, nil, Deps{Ingester: h.ing, Incidents: h.inc, Actions: w, AckLinks: h.links})
	require.NoError(t, err)
	h.srv = srv
	resp, body := h.do(t, linkPost(h.links.Token(7, router.ActionAck), "alice"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "INC-7 acknowledged by bob")
}

func TestAckLinkFailures(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		token    func(h *linkHarness) string
		actor    string
		setup    func(h *linkHarness)
		wantCode int
		wantText string
		wantActs int
	}{
		{name: "garbage GET", method: http.MethodGet, token: func(*linkHarness) string { return "not-a-token" },
			wantCode: 400, wantText: "This link is not valid"},
		{name: "garbage POST", method: http.MethodPost, token: func(*linkHarness) string { return "AAAA.BBBB" },
			wantCode: 400, wantText: "This link is not valid"},
		{name: "tampered POST", method: http.MethodPost, token: tamperedToken,
			wantCode: 400, wantText: "This link is not valid"},
		{name: "other key", method: http.MethodPost, token: func(*linkHarness) string {
			return router.NewAckLinks([]byte("another-key"), linkTTL, func() time.Time { return testNow }).Token(7, router.ActionAck)
		}, wantCode: 400, wantText: "This link is not valid"},
		{name: "too long", method: http.MethodGet, token: func(h *linkHarness) string {
			return h.links.Token(7, router.ActionAck) + strings.Repeat("A", router.MaxAckTokenLen)
		}, wantCode: 400, wantText: "This link is not valid"},
		{name: "expired GET", method: http.MethodGet, token: ackToken, setup: expire,
			wantCode: 410, wantText: "This link has expired — acknowledge in the API or your paging tool"},
		{name: "expired POST", method: http.MethodPost, token: ackToken, setup: expire,
			wantCode: 410, wantText: "This link has expired — acknowledge in the API or your paging tool"},
		{name: "deleted incident GET", method: http.MethodGet, token: ackToken,
			setup:    func(h *linkHarness) { h.inc.err = fmt.Errorf("incident INC-7: %w", store.ErrNotFound) },
			wantCode: 404, wantText: "INC-7 was not found"},
		{name: "nil detail GET", method: http.MethodGet, token: ackToken,
			setup:    func(h *linkHarness) { h.inc.detail = nil },
			wantCode: 404, wantText: "INC-7 was not found"},
		{name: "deleted incident POST", method: http.MethodPost, token: ackToken,
			setup:    func(h *linkHarness) { h.act.err = fmt.Errorf("incident INC-7: %w", store.ErrNotFound) },
			wantCode: 404, wantText: "INC-7 was not found", wantActs: 1},
		{name: "already resolved POST", method: http.MethodPost, token: ackToken,
			setup:    func(h *linkHarness) { h.act.err = fmt.Errorf("%w: INC-7 is already resolved", store.ErrConflict) },
			wantCode: 409, wantText: "INC-7 is already resolved", wantActs: 1},
		{name: "storage down POST", method: http.MethodPost, token: ackToken,
			setup:    func(h *linkHarness) { h.act.err = store.ErrUnavailable },
			wantCode: 503, wantText: "storage unavailable, retry later", wantActs: 1},
		{name: "storage broken GET", method: http.MethodGet, token: ackToken,
			setup:    func(h *linkHarness) { h.inc.err = fmt.Errorf("query: disk I/O error") },
			wantCode: 500, wantText: "internal error"},
		{name: "actor too long", method: http.MethodPost, token: ackToken, actor: strings.Repeat("x", maxActorLen+1),
			wantCode: 400, wantText: "Name too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLinkHarness(t, config.Server{})
			token := tt.token(h)
			if tt.setup != nil {
				tt.setup(h)
			}
			req := linkGet(token)
			if tt.method == http.MethodPost {
				req = linkPost(token, tt.actor)
			}
			resp, body := h.do(t, req)
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			requireLinkHeaders(t, resp)
			require.Contains(t, body, tt.wantText)
			require.NotContains(t, body, "<form")
			require.Len(t, h.act.calls, tt.wantActs)
			require.NotContains(t, allLogText(h.logs), token, "the token is a credential")
		})
	}
}

func ackToken(h *linkHarness) string { return h.links.Token(7, router.ActionAck) }

func expire(h *linkHarness) { h.clk.Advance(linkTTL) }

// tamperedToken changes one character of the payload of a valid token.
func tamperedToken(h *linkHarness) string {
	b := []byte(ackToken(h))
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

func TestAckLinkRetryAfter(t *testing.T) {
	h := newLinkHarness(t, config.Server{})
	h.act.err = fmt.Errorf("ack: %w", store.ErrUnavailable)
	resp, _ := h.do(t, linkPost(ackToken(h), ""))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
}

func TestAckLinkNeedsNoAPIToken(t *testing.T) {
	h := newLinkHarness(t, config.Server{APIToken: "api-7c1e-token-secret"})
	resp, _ := h.do(t, newRequest(http.MethodPost, "/api/v1/incidents/INC-7/ack", ""))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the API itself is guarded")

	resp, body := h.do(t, linkPost(h.links.Token(7, router.ActionAck), "alice"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, []actionCall{{verb: "ack", id: 7, actor: "alice", note: "via one-click link"}}, h.act.calls)
}

func TestAckLinkRoutesNeedVerifier(t *testing.T) {
	h := newHarness(t, config.Server{})
	for _, req := range []*http.Request{linkGet("AAAA.BBBB"), linkPost("AAAA.BBBB", "")} {
		resp, body := h.do(t, req)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, body)
	}
	require.Empty(t, h.act.calls)
}
