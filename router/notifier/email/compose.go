package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
)

// Limits of Compose.
const (
	// maxSubject caps the subject, in runes, well under the 998-byte
	// line limit of RFC 5322 even after Q-encoding.
	maxSubject = 200
	// maxAlerts caps the alerts listed in the body.
	maxAlerts = 20 //nolint:unused // not applied by the composer at present
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
// text/plain and a text/html part (parts.Text and parts.HTML, the
// rendered templates; m.Text when they are empty), both
// quoted-printable, CRLF line endings throughout. The output is deterministic: the same arguments give
// the same bytes (the MIME boundary is derived from the idempotency key).
//
// Headers: Message-ID (MessageID of m.IdempotencyKey), In-Reply-To and
// References (ThreadID of m.DedupKey, or of the incident key when it is
// empty), Date (RFC 1123Z), From, To, Subject (parts.Title, else
// m.Summary; Q-encoded when not ASCII), MIME-Version, Content-Type, Auto-Submitted: auto-generated
// (RFC 3834: no vacation replies), X-Alertgate-Incident and
// X-Alertgate-Kind.
func Compose(m *notify.Message, parts template.Rendered, from string, to []string, now time.Time) ([]byte, error) {
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
	subj := parts.Title
	if strings.TrimSpace(subj) == "" {
		subj = subject(m)
	}
	header("Subject", encodeHeader(notify.Truncate(subj, maxSubject)))
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
	text, htmlPart := parts.Text, parts.HTML
	if text == "" {
		text = m.Text
	}
	if htmlPart == "" {
		htmlPart = "<!DOCTYPE html>\n<html><body><pre>" + html.EscapeString(text) + "</pre></body></html>\n"
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if err := writePart(mw, "text/plain; charset=utf-8", text); err != nil {
		return nil, err
	}
	if err := writePart(mw, "text/html; charset=utf-8", htmlPart); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("email multipart: %w", err)
	}
	return buf.Bytes(), nil
}

// writePart writes one part quoted-printable, which also turns its line
// breaks into CRLF.
func writePart(mw *multipart.Writer, contentType, body string) error {
	pw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return fmt.Errorf("email part: %w", err)
	}
	qp := quotedprintable.NewWriter(pw)
	if _, err := qp.Write([]byte(body)); err != nil {
		return fmt.Errorf("email part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("email part: %w", err)
	}
	return nil
}

func subject(m *notify.Message) string {
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
