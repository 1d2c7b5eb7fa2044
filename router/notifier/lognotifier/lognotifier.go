package lognotifier

import (
	"context"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/router/notify"
)

// Notifier logs each message as one Info line.
type Notifier struct {
	log  *zap.Logger
	tmpl notify.Templates
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier that writes to log; a nil log discards. tmpl
// renders the summary (the registry always sets it); nil logs the
// message's own Summary.
func New(log *zap.Logger, tmpl notify.Templates) (*Notifier, error) {
	if log == nil {
		log = zap.NewNop()
	}
	return &Notifier{log: log, tmpl: tmpl}, nil
}

// Notify writes m as one Info line whose message is the kind ("page",
// "acknowledge", "resolve", "info") with the fields incident, severity,
// status, title, role, step, channel, kind, summary (the rendered title),
// ack_link and incident_url (empty ones left out). It never fails.
//
// The acknowledge link is a credential (anyone holding it acknowledges),
// so it is never written: ack_link says "issued" when the message had
// one, and the templates render the summary without it.
func (n *Notifier) Notify(_ context.Context, m *notify.Message) error {
	ce := n.log.Check(zap.InfoLevel, string(m.Kind))
	if ce == nil {
		// The log level drops the line (log.level warn or error): nothing
		// to render it for.
		return nil
	}
	issued := m.AckURL != ""
	if issued {
		c := *m
		c.AckURL = ""
		m = &c
	}
	m, _ = notify.Render(n.tmpl, m, n.log)
	fields := []zap.Field{
		zap.String("incident", m.Incident.Key),
		zap.String("severity", m.Incident.Severity.String()),
		zap.String("status", string(m.Incident.Status)),
		zap.String("title", m.Incident.Title),
		zap.String("kind", string(m.Kind)),
		zap.String("step", m.Step),
		zap.String("summary", m.Summary),
	}
	for _, f := range []struct{ key, val string }{
		{"role", m.Role},
		{"channel", m.Channel},
		{"incident_url", m.IncidentURL},
	} {
		if f.val != "" {
			fields = append(fields, zap.String(f.key, f.val))
		}
	}
	if issued {
		fields = append(fields, zap.String("ack_link", "issued"))
	}
	ce.Write(fields...)
	return nil
}
