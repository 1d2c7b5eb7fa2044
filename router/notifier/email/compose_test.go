package email_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notifier/email"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
)

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func page() *notify.Message {
	return &notify.Message{
		Kind:           notify.KindPage,
		IdempotencyKey: "INC-7/oncall#0/mail",
		DedupKey:       "alertgate-INC-7",
		Incident: alert.Incident{
			Key: "INC-7", Severity: alert.P0, Status: alert.IncidentTriggered,
			Title: "error rate", Service: "checkout",
		},
		Role:    "oncall",
		Step:    "oncall#0",
		Summary: "[P0] INC-7 checkout: error rate",
		Text:    "Error rate above 5% for 5m.",
		Runbook: &notify.Runbook{Name: "checkout", Title: "Checkout errors", URL: "https://runbooks.example/checkout",
			Steps: []string{"Check the deploy", "Roll back"}},
		AckURL:      "https://alertgate.example/ack/abc",
		IncidentURL: "https://alertgate.example/incidents/INC-7",
	}
}

// parsed is a composed mail taken apart.
type parsed struct {
	header mail.Header
	parts  map[string]string // media type → decoded body
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	require.NotContains(t, strings.ReplaceAll(string(raw), "\r\n", ""), "\n", "bare LF")
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	p := parsed{header: msg.Header, parts: map[string]string{}}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Equal(t, "quoted-printable", part.Header.Get("Content-Transfer-Encoding"))
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		require.NoError(t, err)
		ct, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		require.NoError(t, err)
		p.parts[ct] = string(body)
	}
	return p
}

func compose(t *testing.T, m *notify.Message) parsed {
	t.Helper()
	parts, err := template.DefaultTarget("email").Render(m)
	require.NoError(t, err)
	raw, err := email.Compose(m, parts, "Alertgate <alerts@example.com>", []string{"oncall@example.com", "Lead <lead@example.com>"}, testNow)
	require.NoError(t, err)
	return parse(t, raw)
}

func TestComposeHeaders(t *testing.T) {
	p := compose(t, page())
	h := p.header
	require.Equal(t, email.MessageID("INC-7/oncall#0/mail"), h.Get("Message-ID"))
	require.Regexp(t, `^<[0-9a-f]{32}@alertgate>$`, h.Get("Message-ID"))
	require.Equal(t, email.ThreadID("alertgate-INC-7"), h.Get("In-Reply-To"))
	require.Equal(t, email.ThreadID("alertgate-INC-7"), h.Get("References"))
	require.Regexp(t, `^<[0-9a-f]{32}\.thread@alertgate>$`, h.Get("References"))
	require.Equal(t, "Tue, 04 Mar 2025 05:06:07 +0000", h.Get("Date"))
	require.Equal(t, `"Alertgate" <alerts@example.com>`, h.Get("From"))
	require.Equal(t, `<oncall@example.com>, "Lead" <lead@example.com>`, h.Get("To"))
	require.Equal(t, "[P0] INC-7 checkout: error rate", h.Get("Subject"))
	require.Equal(t, "1.0", h.Get("MIME-Version"))
	require.Equal(t, "auto-generated", h.Get("Auto-Submitted"))
	require.Equal(t, "INC-7", h.Get("X-Alertgate-Incident"))
	require.Equal(t, "page", h.Get("X-Alertgate-Kind"))
}

func TestComposeBodies(t *testing.T) {
	p := compose(t, page())
	require.Len(t, p.parts, 2)
	for _, ct := range []string{"text/plain", "text/html"} {
		t.Run(ct, func(t *testing.T) {
			body := p.parts[ct]
			require.Contains(t, body, "P0 (Critical) incident INC-7 needs oncall.")
			require.Contains(t, body, "Check the deploy")
			require.Contains(t, body, "https://runbooks.example/checkout")
			require.Contains(t, body, "https://alertgate.example/ack/abc")
			require.Contains(t, body, "https://alertgate.example/incidents/INC-7")
		})
	}
	require.Contains(t, p.parts["text/plain"], "Acknowledge: https://alertgate.example/ack/abc")
	require.Contains(t, p.parts["text/plain"], "  2. Roll back")
	require.Contains(t, p.parts["text/html"], `<a href="https://alertgate.example/ack/abc"`)
	require.Contains(t, p.parts["text/html"], ">Acknowledge</a>")
}

func TestComposeFollowUpHasNoAckLink(t *testing.T) {
	m := page()
	m.Kind, m.IdempotencyKey = notify.KindResolve, "INC-7/resolve/mail"
	m.Summary = "Resolved: [P0] INC-7 checkout: error rate"
	m.Incident.Status = alert.IncidentResolved
	p := compose(t, m)
	require.Equal(t, "Resolved: [P0] INC-7 checkout: error rate", p.header.Get("Subject"))
	require.NotContains(t, p.parts["text/plain"], "Acknowledge:")
	require.NotContains(t, p.parts["text/html"], ">Acknowledge</a>")
}

func TestComposeIDs(t *testing.T) {
	first, err := email.Compose(page(), template.Rendered{}, "alerts@example.com", []string{"a@example.com"}, testNow)
	require.NoError(t, err)
	again, err := email.Compose(page(), template.Rendered{}, "alerts@example.com", []string{"a@example.com"}, testNow)
	require.NoError(t, err)
	require.Equal(t, first, again, "a retry composes the same bytes")

	other := page()
	other.Kind, other.IdempotencyKey = notify.KindAcknowledge, "INC-7/ack/mail"
	a, b := parse(t, first), compose(t, other)
	require.NotEqual(t, a.header.Get("Message-ID"), b.header.Get("Message-ID"))
	require.Equal(t, a.header.Get("References"), b.header.Get("References"), "one incident, one thread")

	elsewhere := page()
	elsewhere.DedupKey = "alertgate-INC-8"
	require.NotEqual(t, a.header.Get("References"), compose(t, elsewhere).header.Get("References"))
}

func TestComposeEscapesHTML(t *testing.T) {
	m := page()
	m.Summary = `[P0] INC-7 <script>alert(1)</script>`
	m.Incident.Title = `<script>alert(1)</script>`
	m.Text = `<img src=x onerror=alert(1)>`
	p := compose(t, m)
	html := p.parts["text/html"]
	require.NotContains(t, html, "<script>")
	require.NotContains(t, html, "<img")
	require.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, p.parts["text/plain"], "<script>alert(1)</script>", "plain text is not escaped")
}

func TestComposeEncodesSubject(t *testing.T) {
	tests := []struct {
		name    string
		summary string
		want    string
	}{
		{name: "non-ASCII", summary: "[P1] INC-7 Zahlung fehlgeschlagen: Größe €", want: "[P1] INC-7 Zahlung fehlgeschlagen: Größe €"},
		{name: "header injection", summary: "hi\r\nBcc: evil@example.com", want: "hi  Bcc: evil@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := page()
			m.Summary = tt.summary
			raw, err := email.Compose(m, template.Rendered{}, "alerts@example.com", []string{"a@example.com"}, testNow)
			require.NoError(t, err)
			p := parse(t, raw)
			require.Empty(t, p.header.Get("Bcc"))
			got, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			headers := string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
			for _, r := range headers {
				require.Less(t, r, rune(128), "headers are ASCII")
			}
		})
	}
}

func TestComposeRejectsBadAddresses(t *testing.T) {
	tests := []struct {
		name string
		from string
		to   []string
	}{
		{name: "bad from", from: "not an address", to: []string{"a@example.com"}},
		{name: "bad to", from: "alerts@example.com", to: []string{"a@example.com", "nope"}},
		{name: "no recipients", from: "alerts@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := email.Compose(page(), template.Rendered{}, tt.from, tt.to, testNow)
			require.Error(t, err)
		})
	}
}
