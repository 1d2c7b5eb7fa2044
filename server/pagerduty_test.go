package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/store"
)

const (
	pdSecret    = "pd-whsec-5f1e0c-current"
	pdOldSecret = "pd-whsec-77a2b9-previous"
	pdPath      = "/api/v1/webhooks/pagerduty"
	pdNoteAck   = "acknowledged in PagerDuty (https://acme.pagerduty.com/incidents/Q1KQ8VV0ZT7RPC)"
)

// pdNow is two minutes after the sample's occurred_at.
var pdNow = time.Date(2025, 3, 14, 9, 33, 2, 0, time.UTC)

func pdClock() time.Time { return pdNow }

// newPDWebhook is the handler on pdNow with a fresh memory of event ids.
func newPDWebhook(secrets [][]byte, acts Actions, log *zap.Logger) *PagerDutyWebhook {
	return NewPagerDutyWebhook(secrets, acts, nil, pdClock, log)
}

// pdSign is PagerDuty's v1 signature of body under secret.
func pdSign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// pdSample is the documented incident.acknowledged delivery for INC-7.
func pdSample(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/pagerduty-webhook-acknowledged.json")
	require.NoError(t, err)
	return string(b)
}

// pdVariant rewrites the sample: pairs of old, new strings.
func pdVariant(t testing.TB, pairs ...string) string {
	t.Helper()
	body := pdSample(t)
	for i := 0; i+1 < len(pairs); i += 2 {
		require.Contains(t, body, pairs[i])
		body = strings.Replace(body, pairs[i], pairs[i+1], 1)
	}
	return body
}

// deadlineActions records whether each call had a deadline within
// PagerDuty's 5 seconds.
type deadlineActions struct {
	fakeActions
	deadlines []time.Duration
}

func (d *deadlineActions) record(ctx context.Context) {
	if dl, ok := ctx.Deadline(); ok {
		d.deadlines = append(d.deadlines, time.Until(dl))
	}
}

func (d *deadlineActions) Acknowledge(ctx context.Context, id int64, actor, note string) (*alert.Incident, error) {
	d.record(ctx)
	return d.fakeActions.Acknowledge(ctx, id, actor, note)
}

func (d *deadlineActions) Resolve(ctx context.Context, id int64, actor, note string) (*alert.Incident, error) {
	d.record(ctx)
	return d.fakeActions.Resolve(ctx, id, actor, note)
}

// pdApp serves the webhook the way the server does: errors answered by
// writeError.
func pdApp(h *PagerDutyWebhook) *fiber.App {
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		writeError(c, err)
		return nil
	}})
	app.Post(pdPath, h.Handle)
	return app
}

func pdDo(t *testing.T, app *fiber.App, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req := newRequest(http.MethodPost, pdPath, body, append([]string{"Content-Type", "application/json"}, headers...)...)
	resp, err := app.Test(req, -1)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestPagerDutyWebhook(t *testing.T) {
	sample := pdSample(t)
	resolved := pdVariant(t, `"incident.acknowledged"`, `"incident.resolved"`, `"status": "acknowledged"`, `"status": "resolved"`)
	noAgent := pdVariant(t, `"summary": "Jane Doe",`, `"summary": "",`)
	nullAgent := `{"event":{"id":"E1","event_type":"incident.resolved","resource_type":"incident","occurred_at":"2025-03-14T09:30:00Z","agent":null,` +
		`"data":{"id":"Q1","type":"incident","incident_key":"alertgate/INC-7"}}}`
	foreign := pdVariant(t, `"alertgate/INC-7"`, `"d3640fbd41094207a1c11e58e46b1662"`)
	badKey := pdVariant(t, `"alertgate/INC-7"`, `"alertgate/INC-x"`)
	triggered := pdVariant(t, `"incident.acknowledged"`, `"incident.triggered"`)
	annotated := `{"event":{"id":"E2","event_type":"incident.annotated","resource_type":"incident","agent":null,` +
		`"data":{"incident":{"id":"Q1","type":"incident_reference"},"id":"P2LA89X","content":"looking","type":"incident_note"}}}`
	ping := `{"event":{"id":"E3","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2025-03-14T09:31:02Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}`
	ackNote := `{"event":{"event_type":"incident.acknowledged","data":{"id":"P2LA89X","type":"incident_note"}}}`
	stale := pdVariant(t, `"2025-03-14T09:31:02.318Z"`, `"2020-06-01T12:00:00Z"`)
	late := pdVariant(t, `"2025-03-14T09:31:02.318Z"`, `"2025-03-14T09:28:01Z"`)
	future := pdVariant(t, `"2025-03-14T09:31:02.318Z"`, `"2025-03-14T09:38:03Z"`)
	edge := pdVariant(t, `"2025-03-14T09:31:02.318Z"`, `"2025-03-14T09:28:02Z"`)
	noTime := pdVariant(t, `"2025-03-14T09:31:02.318Z"`, `""`)
	noID := pdVariant(t, `"01DEN0UHNDQ2ZJ6M5HHZ8BIAOR"`, `""`)
	nulID := pdVariant(t, `"01DEN0UHNDQ2ZJ6M5HHZ8BIAOR"`, `"01DEN\u0000"`)
	nulAgent := pdVariant(t, `"summary": "Jane Doe",`, `"summary": "Jane\u0000Doe",`)
	staleIgnored := pdVariant(t, `"2025-03-14T09:31:02.318Z"`, `"2020-06-01T12:00:00Z"`, `"incident.acknowledged"`, `"incident.priority_updated"`)

	ack7 := []actionCall{{verb: "ack", id: 7, actor: "pagerduty:Jane Doe", note: pdNoteAck}}
	tests := []struct {
		name      string
		secrets   []string
		body      string
		signature string
		actErr    error
		wantCode  int
		wantErr   string
		wantCalls []actionCall
		wantRetry bool
	}{
		{name: "acknowledged", body: sample, signature: pdSign(pdSecret, sample), wantCode: http.StatusAccepted, wantCalls: ack7},
		{name: "resolved", body: resolved, signature: pdSign(pdSecret, resolved), wantCode: http.StatusAccepted,
			wantCalls: []actionCall{{verb: "resolve", id: 7, actor: "pagerduty:Jane Doe", note: "resolved in PagerDuty (https://acme.pagerduty.com/incidents/Q1KQ8VV0ZT7RPC)"}}},
		{name: "agent without name", body: noAgent, signature: pdSign(pdSecret, noAgent), wantCode: http.StatusAccepted,
			wantCalls: []actionCall{{verb: "ack", id: 7, actor: "pagerduty", note: pdNoteAck}}},
		{name: "no agent, no url", body: nullAgent, signature: pdSign(pdSecret, nullAgent), wantCode: http.StatusAccepted,
			wantCalls: []actionCall{{verb: "resolve", id: 7, actor: "pagerduty", note: "resolved in PagerDuty"}}},
		{name: "rotation: old secret still configured", secrets: []string{pdSecret, pdOldSecret}, body: sample,
			signature: pdSign(pdOldSecret, sample), wantCode: http.StatusAccepted, wantCalls: ack7},
		{name: "rotation: two signatures, one matches", body: sample,
			signature: pdSign(pdOldSecret, sample) + "," + pdSign(pdSecret, sample), wantCode: http.StatusAccepted, wantCalls: ack7},
		{name: "rotation: unknown version skipped", body: sample,
			signature: "v0=abc, " + pdSign(pdSecret, sample), wantCode: http.StatusAccepted, wantCalls: ack7},

		{name: "incident not opened by alertgate", body: foreign, signature: pdSign(pdSecret, foreign), wantCode: http.StatusAccepted},
		{name: "alertgate prefix with a bad key", body: badKey, signature: pdSign(pdSecret, badKey), wantCode: http.StatusAccepted},
		{name: "incident.triggered ignored", body: triggered, signature: pdSign(pdSecret, triggered), wantCode: http.StatusAccepted},
		{name: "incident.annotated ignored", body: annotated, signature: pdSign(pdSecret, annotated), wantCode: http.StatusAccepted},
		{name: "pagey.ping ignored", body: ping, signature: pdSign(pdSecret, ping), wantCode: http.StatusAccepted},

		{name: "ack of a resolved incident", body: sample, signature: pdSign(pdSecret, sample),
			actErr: fmt.Errorf("%w: INC-7 is already resolved", store.ErrConflict), wantCode: http.StatusAccepted, wantCalls: ack7},
		{name: "unknown incident", body: sample, signature: pdSign(pdSecret, sample),
			actErr: store.ErrNotFound, wantCode: http.StatusAccepted, wantCalls: ack7},
		{name: "storage unavailable is retried", body: sample, signature: pdSign(pdSecret, sample),
			actErr: fmt.Errorf("begin: %w", store.ErrUnavailable), wantCode: http.StatusServiceUnavailable,
			wantErr: "storage unavailable, retry later", wantCalls: ack7, wantRetry: true},
		{name: "store timeout is retried", body: sample, signature: pdSign(pdSecret, sample),
			actErr: context.DeadlineExceeded, wantCode: http.StatusServiceUnavailable,
			wantErr: "timed out, retry later", wantCalls: ack7, wantRetry: true},
		{name: "unexpected store error", body: sample, signature: pdSign(pdSecret, sample),
			actErr: errors.New("disk I/O error"), wantCode: http.StatusInternalServerError, wantErr: "internal error", wantCalls: ack7},

		{name: "no secret configured", secrets: []string{}, body: sample, signature: pdSign("", sample),
			wantCode: http.StatusUnauthorized, wantErr: "no webhook secret configured"},
		{name: "only empty secrets configured", secrets: []string{""}, body: sample, signature: pdSign("", sample),
			wantCode: http.StatusUnauthorized, wantErr: "no webhook secret configured"},
		{name: "missing signature", body: sample, wantCode: http.StatusUnauthorized, wantErr: "missing signature header X-PagerDuty-Signature"},
		{name: "malformed signature", body: sample, signature: "v1=zz", wantCode: http.StatusUnauthorized, wantErr: "malformed signature (want v1=<hex HMAC-SHA256>)"},
		{name: "wrong secret", body: sample, signature: pdSign("guess", sample), wantCode: http.StatusUnauthorized, wantErr: "invalid signature"},
		{name: "old secret after rotation", body: sample, signature: pdSign(pdOldSecret, sample), wantCode: http.StatusUnauthorized, wantErr: "invalid signature"},
		{name: "body changed after signing", body: resolved, signature: pdSign(pdSecret, sample), wantCode: http.StatusUnauthorized, wantErr: "invalid signature"},
		{name: "signature without version", body: sample, signature: strings.TrimPrefix(pdSign(pdSecret, sample), "v1="),
			wantCode: http.StatusUnauthorized, wantErr: "malformed signature (want v1=<hex HMAC-SHA256>)"},

		{name: "occurred exactly 5 minutes ago", body: edge, signature: pdSign(pdSecret, edge), wantCode: http.StatusAccepted, wantCalls: ack7},
		{name: "stale: occurred in 2020", body: stale, signature: pdSign(pdSecret, stale), wantCode: http.StatusBadRequest,
			wantErr: "event occurred at 2020-06-01T12:00:00Z, more than 5m0s from now: refused as a replay or a late delivery"},
		{name: "stale: a second past the window", body: late, signature: pdSign(pdSecret, late), wantCode: http.StatusBadRequest,
			wantErr: "event occurred at 2025-03-14T09:28:01Z, more than 5m0s from now: refused as a replay or a late delivery"},
		{name: "occurred in the future", body: future, signature: pdSign(pdSecret, future), wantCode: http.StatusBadRequest,
			wantErr: "event occurred at 2025-03-14T09:38:03Z, more than 5m0s from now: refused as a replay or a late delivery"},
		{name: "no occurred_at", body: noTime, signature: pdSign(pdSecret, noTime), wantCode: http.StatusBadRequest,
			wantErr: "invalid webhook: event.occurred_at must be an RFC 3339 time"},
		{name: "no event id", body: noID, signature: pdSign(pdSecret, noID), wantCode: http.StatusBadRequest,
			wantErr: "invalid webhook: event.id must be 1 to 128 characters"},
		{name: "NUL in the event id", body: nulID, signature: pdSign(pdSecret, nulID), wantCode: http.StatusBadRequest,
			wantErr: "invalid webhook: event.id contains a NUL byte or invalid UTF-8"},
		{name: "NUL in the agent's name", body: nulAgent, signature: pdSign(pdSecret, nulAgent), wantCode: http.StatusBadRequest,
			wantErr: "invalid webhook: event.agent.summary contains a NUL byte or invalid UTF-8"},
		{name: "stale event of a type not acted on", body: staleIgnored, signature: pdSign(pdSecret, staleIgnored), wantCode: http.StatusAccepted},

		{name: "malformed JSON", body: `{"event":`, signature: pdSign(pdSecret, `{"event":`),
			wantCode: http.StatusBadRequest, wantErr: "invalid JSON body: unexpected end of JSON input"},
		{name: "no event", body: `{}`, signature: pdSign(pdSecret, `{}`),
			wantCode: http.StatusBadRequest, wantErr: "invalid webhook: missing event.event_type"},
		{name: "acknowledged without an incident", body: ackNote, signature: pdSign(pdSecret, ackNote),
			wantCode: http.StatusBadRequest, wantErr: "invalid event.data: want an incident object for incident.acknowledged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{pdSecret}
			}
			var keys [][]byte
			for _, s := range secrets {
				keys = append(keys, []byte(s))
			}
			acts := &deadlineActions{fakeActions: fakeActions{err: tt.actErr}}
			app := pdApp(newPDWebhook(keys, acts, zap.NewNop()))
			var headers []string
			if tt.signature != "" {
				headers = []string{"X-PagerDuty-Signature", tt.signature, "X-Webhook-Id", "3f1c5e7a-delivery"}
			}

			resp, body := pdDo(t, app, tt.body, headers...)

			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			require.Equal(t, tt.wantCalls, acts.calls)
			require.Len(t, acts.deadlines, len(tt.wantCalls), "every store call has a deadline")
			for _, d := range acts.deadlines {
				require.Less(t, d, 5*time.Second, "answer within PagerDuty's 5s")
			}
			if tt.wantErr != "" {
				require.Equal(t, tt.wantErr, errorOf(t, body))
			} else {
				require.JSONEq(t, `{"status":"accepted"}`, body)
			}
			if tt.wantRetry {
				require.NotEmpty(t, resp.Header.Get(fiber.HeaderRetryAfter))
			}
			if tt.wantCode == http.StatusUnauthorized {
				require.Contains(t, resp.Header.Get(fiber.HeaderWWWAuthenticate), "X-PagerDuty-Signature")
			}
		})
	}
}

func TestPagerDutyWebhookSecretsCopied(t *testing.T) {
	key := []byte(pdSecret)
	acts := &fakeActions{}
	app := pdApp(newPDWebhook([][]byte{key}, acts, nil))
	copy(key, "overwritten-after-construction")
	sample := pdSample(t)

	resp, body := pdDo(t, app, sample, "X-PagerDuty-Signature", pdSign(pdSecret, sample))

	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	require.Len(t, acts.calls, 1)
}

func TestPagerDutyWebhookLogs(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	acts := &fakeActions{}
	app := pdApp(newPDWebhook([][]byte{[]byte(pdSecret)}, acts, zap.New(core)))
	sample := pdSample(t)
	foreign := pdVariant(t, `"alertgate/INC-7"`, `"d3640fbd41094207a1c11e58e46b1662"`)
	sigs := []string{pdSign(pdSecret, sample), pdSign(pdSecret, foreign), pdSign("wrong", sample)}

	pdDo(t, app, sample, "X-PagerDuty-Signature", sigs[0], "X-Webhook-Id", "delivery-1")
	pdDo(t, app, foreign, "X-PagerDuty-Signature", sigs[1])
	pdDo(t, app, sample, "X-PagerDuty-Signature", sigs[2])

	applied := logs.FilterMessage("incident acknowledged in pagerduty").All()
	require.Len(t, applied, 1)
	require.Equal(t, zapcore.InfoLevel, applied[0].Level)
	fields := applied[0].ContextMap()
	require.Equal(t, "INC-7", fields["incident"])
	require.Equal(t, "pagerduty:Jane Doe", fields["actor"])
	require.Equal(t, "Q1KQ8VV0ZT7RPC", fields["pagerduty_incident"])
	require.Equal(t, "01DEN0UHNDQ2ZJ6M5HHZ8BIAOR", fields["event_id"])
	require.Equal(t, "delivery-1", fields["delivery_id"])

	ignored := logs.FilterMessage("pagerduty webhook ignored").All()
	require.Len(t, ignored, 1)
	require.Equal(t, zapcore.DebugLevel, ignored[0].Level)
	require.Equal(t, "incident not opened by alertgate", ignored[0].ContextMap()["reason"])

	text := allLogText(logs)
	for _, secret := range append([]string{pdSecret}, sigs...) {
		require.NotContains(t, text, secret)
		require.NotContains(t, text, strings.TrimPrefix(secret, "v1="))
	}
}

func TestIncidentFromDedupKey(t *testing.T) {
	tests := []struct {
		key    string
		wantID int64
		wantOK bool
	}{
		{key: "alertgate/INC-7", wantID: 7, wantOK: true},
		{key: "alertgate/inc-12", wantID: 12, wantOK: true},
		{key: "alertgate/42", wantID: 42, wantOK: true},
		{key: "INC-7"},
		{key: "other/INC-7"},
		{key: "alertgate/"},
		{key: "alertgate/INC-0"},
		{key: "alertgate/INC--3"},
		{key: ""},
		{key: "d3640fbd41094207a1c11e58e46b1662"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			id, ok := incidentFromDedupKey(tt.key)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.wantID, id)
		})
	}
}

func TestPagerDutyActorIsBounded(t *testing.T) {
	long := strings.Repeat("é", 2*maxActorLen)
	actor := pagerDutyActor(&pagerDutyReference{Summary: long})
	require.Len(t, []rune(actor), maxActorLen)
	require.True(t, strings.HasPrefix(actor, "pagerduty:é"))
}

func FuzzPagerDutyWebhook(f *testing.F) {
	f.Add(pdSample(f), "")
	f.Add(`{"event":{"event_type":"incident.resolved","data":null}}`, "v1=00,v1=")
	f.Add(`{"event":{"event_type":"incident.acknowledged","data":[1]}}`, ",,v1=zz")
	f.Fuzz(func(t *testing.T, body, extraSig string) {
		if len(extraSig) > 1000 || strings.ContainsFunc(extraSig, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
			t.Skip("not a header value a client can send")
		}
		acts := &fakeActions{}
		app := pdApp(newPDWebhook([][]byte{[]byte(pdSecret)}, acts, nil))
		sig := pdSign(pdSecret, body)
		if extraSig != "" {
			sig = extraSig + "," + sig
		}
		resp, out := pdDo(t, app, body, "X-PagerDuty-Signature", sig)
		// Signed, so never 401, unless extraSig crowds the real signature
		// out of the ones considered.
		if strings.Count(extraSig, "v1=") < maxPagerDutySignatures {
			require.Contains(t, []int{http.StatusAccepted, http.StatusBadRequest}, resp.StatusCode, out)
		}
		require.LessOrEqual(t, len(acts.calls), 1)
	})
}

// recordingEvents counts the claims and forgets of event ids on top of
// the memory store.
type recordingEvents struct {
	*memoryEvents
	forgotten []string
}

func (r *recordingEvents) ForgetWebhookEvent(ctx context.Context, id string) error {
	r.forgotten = append(r.forgotten, id)
	return r.memoryEvents.ForgetWebhookEvent(ctx, id)
}

// A signed event is applied once: the same event again — within the
// window, to this or (through the store) another replica — is refused with
// 409, while an event that could not be applied is taken on retry.
func TestPagerDutyWebhookReplay(t *testing.T) {
	sample := pdSample(t)
	resolved := pdVariant(t, `"incident.acknowledged"`, `"incident.resolved"`, `"01DEN0UHNDQ2ZJ6M5HHZ8BIAOR"`, `"01DEN0UHNDQ2ZJ6M5HHZ8RESOL"`)
	sig := []string{"X-PagerDuty-Signature", pdSign(pdSecret, sample)}
	clk := clocktest.New(pdNow)
	events := &recordingEvents{memoryEvents: newMemoryEvents(clk.Now)}
	acts := &fakeActions{}
	app := pdApp(NewPagerDutyWebhook([][]byte{[]byte(pdSecret)}, acts, events, clk.Now, nil))

	resp, body := pdDo(t, app, sample, sig...)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	resp, body = pdDo(t, app, sample, sig...)
	require.Equal(t, http.StatusConflict, resp.StatusCode, body)
	require.Equal(t, "event 01DEN0UHNDQ2ZJ6M5HHZ8BIAOR was already received", errorOf(t, body))
	clk.Advance(2 * time.Minute) // still inside the window
	resp, _ = pdDo(t, app, sample, sig...)
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	clk.Advance(2 * time.Minute) // past it: stale, whatever the memory
	resp, _ = pdDo(t, app, sample, sig...)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, acts.calls, 1, "applied once")

	// A resolve the store could not apply is forgotten, and its retry taken.
	clk.Set(pdNow)
	acts.err = fmt.Errorf("begin: %w", store.ErrUnavailable)
	resp, _ = pdDo(t, app, resolved, "X-PagerDuty-Signature", pdSign(pdSecret, resolved))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, []string{"pagerduty:01DEN0UHNDQ2ZJ6M5HHZ8RESOL"}, events.forgotten)
	acts.err = nil
	resp, _ = pdDo(t, app, resolved, "X-PagerDuty-Signature", pdSign(pdSecret, resolved))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Len(t, acts.calls, 3)
	require.Equal(t, "resolve", acts.calls[2].verb)
}
