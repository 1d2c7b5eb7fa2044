package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate/router"
)

// Limits of Compose.
const (
	// maxSubject caps the subject, in runes, well under the 998-byte
	// line limit of RFC 5322 even after Q-encoding.
	maxSubject = 200
	// maxAlerts caps the alerts listed in the body.
	maxAlerts = 20
	// idDomain is the right-hand side of generated message ids.
	idDomain = "alertgate"
)

// MessageID returns the Message-ID of a message with the idempotency key
// key, angle brackets included: a retry of one delivery carries the same
// id, so receivers and MTAs can drop the duplicate.
func MessageID(key string) string {
	return "<" + hash(key) + "@" + idDomain + ">"
}

// ThreadID returns the id every message of the incident with the dedup
// key dedupKey refers to (In-Reply-To and References), angle brackets
// included. No message carries it as its own Message-ID: it is a virtual
// thread root, which mail clients thread by just as well.
func ThreadID(dedupKey string) string {
	return "<" + hash(dedupKey) + ".thread@" + idDomain + ">"
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:32]
}

// Compose renders m as an RFC 5322 message from the address from to the
// addresses to, dated now: a multipart/alternative body with a
// text/plain and a text/html part, both quoted-printable, CRLF line
// endings throughout. The output is deterministic: the same arguments give
// the same bytes (the MIME boundary is derived from the idempotency key).
//
// Headers: Message-ID (MessageID of m.IdempotencyKey), In-Reply-To and
// References (ThreadID of m.DedupKey, or of the incident key when it is
// empty), Date (RFC 1123Z), From, To, Subject (m.Summary, Q-encoded when
// not ASCII), MIME-Version, Content-Type, Auto-Submitted: auto-generated
// (RFC 3834: no vacation replies), X-Alertgate-Incident and
// X-Alertgate-Kind.
func Compose(m *router.Message, from string, to []string, now time.Time) ([]byte, error) {
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("email from %q: %w", from, err)
	}
	if len(to) == 0 {
		return nil, errors.New("email: no recipients")
	}
	toAddrs := make([]string, 0, len(to))
	for _, t := range to {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("email to %q: %w", t, err)
		}
		toAddrs = append(toAddrs, a.String())
	}

	key := m.IdempotencyKey
	if key == "" {
		// Still deterministic for the same arguments.
		key = strings.Join([]string{string(m.Kind), m.DedupKey, m.Incident.Key, m.Step, now.UTC().Format(time.RFC3339Nano)}, "\x00")
	}
	thread := m.DedupKey
	if thread == "" {
		thread = m.Incident.Key
	}

	var buf bytes.Buffer
	header := func(name, value string) {
		buf.WriteString(name)
		buf.WriteString(": ")
		buf.WriteString(value)
		buf.WriteString("\r\n")
	}
	header("Message-ID", MessageID(key))
	if thread != "" {
		header("In-Reply-To", ThreadID(thread))
		header("References", ThreadID(thread))
	}
	header("Date", now.Format(time.RFC1123Z))
	header("From", fromAddr.String())
	header("To", strings.Join(toAddrs, ", "))
	header("Subject", encodeHeader(truncate(subject(m), maxSubject)))
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	if m.Incident.Key != "" {
		header("X-Alertgate-Incident", encodeHeader(m.Incident.Key))
	}
	header("X-Alertgate-Kind", encodeHeader(string(m.Kind)))

	// A boundary holding "=_" never occurs in quoted-printable text, where
	// "=" is always followed by two hex digits or a line break.
	boundary := "=_alertgate_" + hash("boundary\x00"+key)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary}))
	buf.WriteString("\r\n")

	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("email boundary: %w", err)
	}
	data := newBody(m)
	if err := writePart(mw, "text/plain; charset=utf-8", func(w *bytes.Buffer) error {
		return textBody.Execute(w, data)
	}); err != nil {
		return nil, err
	}
	if err := writePart(mw, "text/html; charset=utf-8", func(w *bytes.Buffer) error {
		return htmlBody.Execute(w, data)
	}); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("email multipart: %w", err)
	}
	return buf.Bytes(), nil
}

// writePart renders one part with render and writes it quoted-printable,
// which also turns its line breaks into CRLF.
func writePart(mw *multipart.Writer, contentType string, render func(*bytes.Buffer) error) error {
	var raw bytes.Buffer
	if err := render(&raw); err != nil {
		return fmt.Errorf("email render %s: %w", contentType, err)
	}
	pw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return fmt.Errorf("email part: %w", err)
	}
	qp := quotedprintable.NewWriter(pw)
	if _, err := qp.Write(raw.Bytes()); err != nil {
		return fmt.Errorf("email part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("email part: %w", err)
	}
	return nil
}

func subject(m *router.Message) string {
	if s := strings.TrimSpace(m.Summary); s != "" {
		return s
	}
	return fmt.Sprintf("[%s] %s %s", m.Incident.Severity, m.Incident.Key, m.Incident.Title)
}

// encodeHeader makes s a safe header value: line breaks (header
// injection) become spaces, and non-ASCII or control characters are
// Q-encoded (RFC 2047).
func encodeHeader(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	return mime.QEncoding.Encode("utf-8", s)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// body is what both part templates render.
type body struct {
	Summary     string
	Severity    string
	Key         string
	Title       string
	Service     string
	Status      string
	Role        string
	Text        string
	Runbook     *router.Runbook
	Alerts      []router.AlertSummary
	More        int
	AckURL      string
	IncidentURL string
}

func newBody(m *router.Message) body {
	b := body{
		Summary:     subject(m),
		Severity:    m.Incident.Severity.String(),
		Key:         m.Incident.Key,
		Title:       m.Incident.Title,
		Service:     m.Incident.Service,
		Status:      string(m.Incident.Status),
		Role:        m.Role,
		Text:        strings.TrimSpace(m.Text),
		Runbook:     m.Runbook,
		Alerts:      m.Alerts,
		IncidentURL: m.IncidentURL,
	}
	if len(b.Alerts) > maxAlerts {
		b.More = len(b.Alerts) - maxAlerts
		b.Alerts = b.Alerts[:maxAlerts]
	}
	// Follow-ups need no Acknowledge link; neither does a handled incident.
	if m.Kind != router.KindAcknowledge && m.Kind != router.KindResolve && m.Incident.Open() && m.Incident.AcknowledgedAt.IsZero() {
		b.AckURL = m.AckURL
	}
	return b
}

var funcs = map[string]any{"inc": func(i int) int { return i + 1 }}

var textBody = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(`{{.Summary}}

Incident: {{.Key}} [{{.Severity}}] {{.Title}}
{{- if .Service}}
Service:  {{.Service}}{{end}}
{{- if .Status}}
Status:   {{.Status}}{{end}}
{{- if .Role}}
Paging:   {{.Role}}{{end}}
{{if .Text}}
{{.Text}}
{{end}}
{{- with .Runbook}}
Runbook: {{.Title}}{{if .URL}} <{{.URL}}>{{end}}
{{- range $i, $s := .Steps}}
  {{inc $i}}. {{$s}}{{end}}
{{end}}
{{- if .Alerts}}
Alerts:
{{- range .Alerts}}
  - [{{.Status}}] {{.Title}}{{end}}
{{- if .More}}
  … and {{.More}} more{{end}}
{{end}}
{{- if .AckURL}}
Acknowledge: {{.AckURL}}{{end}}
{{- if .IncidentURL}}
View incident: {{.IncidentURL}}{{end}}
`))

var htmlBody = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif">
<h2>{{.Summary}}</h2>
<table>
<tr><td><b>Incident</b></td><td>{{.Key}} [{{.Severity}}] {{.Title}}</td></tr>
{{- if .Service}}
<tr><td><b>Service</b></td><td>{{.Service}}</td></tr>{{end}}
{{- if .Status}}
<tr><td><b>Status</b></td><td>{{.Status}}</td></tr>{{end}}
{{- if .Role}}
<tr><td><b>Paging</b></td><td>{{.Role}}</td></tr>{{end}}
</table>
{{- if .Text}}
<p style="white-space:pre-wrap">{{.Text}}</p>{{end}}
{{- with .Runbook}}
<p><b>Runbook:</b> {{if .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}}</p>
{{- if .Steps}}
<ol>{{range .Steps}}<li>{{.}}</li>{{end}}</ol>{{end}}
{{- end}}
{{- if .Alerts}}
<ul>{{range .Alerts}}<li>[{{.Status}}] {{.Title}}</li>{{end}}{{if .More}}<li>… and {{.More}} more</li>{{end}}</ul>
{{- end}}
<p>
{{- if .AckURL}}
<a href="{{.AckURL}}" style="display:inline-block;padding:8px 16px;background:#d32f2f;color:#ffffff;text-decoration:none;border-radius:4px">Acknowledge</a>{{end}}
{{- if .IncidentURL}}
<a href="{{.IncidentURL}}" style="display:inline-block;padding:8px 16px">View incident</a>{{end}}
</p>
</body></html>
`))
