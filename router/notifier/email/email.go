package email

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/router/notify"
)

// DefaultTimeout bounds one attempt (dial to QUIT) when Config.Timeout is
// zero or less.
const DefaultTimeout = 30 * time.Second

// implicitTLSPort is the submissions port (RFC 8314): TLS from the first
// byte instead of STARTTLS.
const implicitTLSPort = 465

// Config configures an email target.
type Config struct {
	SMTP SMTP
	// Timeout bounds one attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Version is alertgate's version, sent as X-Mailer.
	Version string
	// Templates renders the subject (title), the text and the html parts (the registry always sets
	// it); nil sends the message's own Summary and Text.
	Templates notify.Templates
}

// Notifier sends every message as one mail to the configured recipients.
type Notifier struct {
	smtp    SMTP
	envFrom string   // MAIL FROM address
	envTo   []string // RCPT TO addresses
	timeout time.Duration
	mailer  string // X-Mailer header line, CRLF included
	helo    string
	tls     *tls.Config
	log     *zap.Logger
	now     func() time.Time
	tmpl    notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns an email Notifier. A nil log discards and a nil now means
// time.Now. From and every To must be RFC 5322 addresses.
func New(cfg Config, log *zap.Logger, now func() time.Time) (*Notifier, error) {
	s := cfg.SMTP
	if s.Host == "" {
		return nil, errors.New("email: no smtp host")
	}
	if s.Port <= 0 || s.Port > 65535 {
		return nil, fmt.Errorf("email: smtp port %d out of range", s.Port)
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return nil, fmt.Errorf("email from %q: %w", s.From, err)
	}
	if len(s.To) == 0 {
		return nil, errors.New("email: no recipients")
	}
	envTo := make([]string, 0, len(s.To))
	for _, t := range s.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("email to %q: %w", t, err)
		}
		envTo = append(envTo, a.Address)
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
	mailer := "alertgate"
	if v := strings.TrimSpace(cfg.Version); v != "" {
		mailer += "/" + v
	}
	helo, err := os.Hostname()
	if err != nil || helo == "" || strings.ContainsAny(helo, " \r\n") {
		helo = "localhost"
	}
	return &Notifier{
		smtp:    s,
		envFrom: from.Address,
		envTo:   envTo,
		timeout: timeout,
		mailer:  "X-Mailer: " + encodeHeader(mailer) + "\r\n",
		helo:    helo,
		tls:     &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12},
		log:     log,
		now:     now,
		tmpl:    cfg.Templates,
	}, nil
}

// Notify mails m (see Compose) to every recipient in one transaction.
// Every kind is sent.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	m, parts := notify.Render(n.tmpl, m, n.log)
	msg, err := Compose(m, parts, n.smtp.From, n.smtp.To, n.now())
	if err != nil {
		return &notify.DeliveryError{Reason: notify.ReasonClient, Err: err}
	}
	ctx, cancel := notify.AttemptContext(ctx, n.timeout)
	defer cancel()
	return n.send(ctx, append([]byte(n.mailer), msg...))
}

// send runs one SMTP transaction: dial, TLS, AUTH, MAIL, RCPT, DATA, QUIT.
func (n *Notifier) send(ctx context.Context, msg []byte) error {
	addr := net.JoinHostPort(n.smtp.Host, strconv.Itoa(n.smtp.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return n.fail(ctx, "dial", err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// Cancellation (shutdown) interrupts a blocked read or write.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if n.smtp.Port == implicitTLSPort {
		tc := tls.Client(conn, n.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return n.fail(ctx, "tls", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, n.smtp.Host)
	if err != nil {
		return n.fail(ctx, "greeting", err)
	}
	defer c.Close()
	if err := c.Hello(n.helo); err != nil {
		return n.fail(ctx, "ehlo", err)
	}
	if n.smtp.Port != implicitTLSPort {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(n.tls); err != nil {
				return n.fail(ctx, "starttls", err)
			}
		} else if !n.smtp.Insecure {
			return &notify.DeliveryError{Reason: notify.ReasonConfig,
				Err: fmt.Errorf("smtp %s: server offers no STARTTLS (set insecure to allow plain text)", addr)}
		}
	}
	if n.smtp.Username != "" {
		auth := smtp.PlainAuth("", n.smtp.Username, n.smtp.Password.Value(), n.smtp.Host)
		if err := c.Auth(auth); err != nil {
			return n.fail(ctx, "auth", err)
		}
	}
	if err := c.Mail(n.envFrom); err != nil {
		return n.fail(ctx, "mail from", err)
	}
	for _, to := range n.envTo {
		if err := c.Rcpt(to); err != nil {
			return n.fail(ctx, "rcpt to", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return n.fail(ctx, "data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return n.fail(ctx, "data", err)
	}
	// Close sends the final "." and reads the verdict on the message.
	if err := w.Close(); err != nil {
		return n.fail(ctx, "data", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// authCodes are replies meaning the credentials are wrong or missing:
// 530 authentication required, 534 mechanism too weak, 535 credentials
// invalid.
var authCodes = map[int]bool{530: true, 534: true, 535: true}

// fail classifies err from the SMTP stage: 4xx replies are temporary
// (server), 5xx permanent (auth or client), deadlines temporary timeout,
// other network trouble temporary network. Local refusals in the auth and
// TLS stages (PLAIN over plain text, an untrusted certificate) are
// permanent config errors. The password never appears in the text.
func (n *Notifier) fail(ctx context.Context, stage string, err error) error {
	de := &notify.DeliveryError{Temporary: true, Reason: notify.ReasonNetwork}
	var tpe *textproto.Error
	var ne net.Error
	var cve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &tpe):
		de.StatusCode = tpe.Code
		switch {
		case tpe.Code >= 400 && tpe.Code < 500:
			de.Reason = notify.ReasonServer
		case authCodes[tpe.Code]:
			de.Temporary, de.Reason = false, notify.ReasonAuth
		default:
			de.Temporary, de.Reason = false, notify.ReasonClient
		}
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded ||
		(errors.As(err, &ne) && ne.Timeout()):
		de.Reason = notify.ReasonTimeout
	case errors.As(err, &cve):
		de.Temporary, de.Reason = false, notify.ReasonConfig
	case stage == "auth" && !errors.As(err, &ne):
		de.Temporary, de.Reason = false, notify.ReasonConfig
	}
	de.Err = n.redact(fmt.Errorf("smtp %s: %w", stage, err))
	return de
}

// redact returns err unchanged unless its text holds the password, plain
// or as it travels in AUTH PLAIN; then a flat error with it replaced.
func (n *Notifier) redact(err error) error {
	pw := n.smtp.Password.Value()
	if len(pw) < 4 { // too short to replace without mangling the text
		return err
	}
	text := err.Error()
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + n.smtp.Username + "\x00" + pw))
	if !strings.Contains(text, pw) && !strings.Contains(text, plain) {
		return err
	}
	text = strings.ReplaceAll(text, plain, "<secret>")
	text = strings.ReplaceAll(text, pw, "<secret>")
	return errors.New(text)
}
