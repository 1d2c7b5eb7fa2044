package opsgenie

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// Field limits of the Alert API.
const (
	MaxMessage     = 130
	MaxAlias       = 512
	MaxDescription = 15000
	MaxEntity      = 512
	MaxTags        = 20
)

// Source is the source and user alertgate reports to Opsgenie.
const Source = "alertgate"

// createRequest is the body of POST /v2/alerts.
type createRequest struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description,omitempty"`
	Responders  []responder       `json:"responders,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
	Note        string            `json:"note,omitempty"`
}

// responder is an alert responder, identified by one of ID, Name or
// Username.
type responder struct {
	Type     string `json:"type"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
}

// actionRequest is the body of the acknowledge and close calls.
type actionRequest struct {
	User   string `json:"user"`
	Source string `json:"source"`
	Note   string `json:"note"`
}

// Alias returns the Opsgenie alias of m: its dedup key, or the key's
// SHA-256 hex when it is longer than MaxAlias bytes.
func Alias(m *notify.Message) string {
	if len(m.DedupKey) <= MaxAlias {
		return m.DedupKey
	}
	sum := sha256.Sum256([]byte(m.DedupKey))
	return hex.EncodeToString(sum[:])
}

// Priority maps an incident severity to an Opsgenie priority: P0→P1,
// P1→P2, P2→P3, P3→P4. An unknown severity is P3, Opsgenie's default.
func Priority(s alert.Severity) string {
	if !s.Valid() {
		return "P3"
	}
	return fmt.Sprintf("P%d", int(s)+1)
}

// responders converts and checks the configured responders.
func responders(rs []Responder) ([]responder, error) {
	out := make([]responder, 0, len(rs))
	for i, r := range rs {
		switch r.Type {
		case "team", "user", "escalation", "schedule":
		default:
			return nil, fmt.Errorf("responder %d: type %q is not team, user, escalation or schedule", i, r.Type)
		}
		if r.ID == "" && r.Name == "" && r.Username == "" {
			return nil, fmt.Errorf("responder %d: needs id, name or username", i)
		}
		out = append(out, responder(r))
	}
	return out, nil
}

// create builds the alert a page opens.
func (n *Notifier) create(m *notify.Message, alias string) *createRequest {
	inc := &m.Incident
	msg := m.Summary
	if msg == "" {
		msg = fmt.Sprintf("[%s] %s %s", inc.Severity, inc.Key, inc.Title)
	}
	return &createRequest{
		Message:     notify.Truncate(msg, MaxMessage),
		Alias:       alias,
		Description: notify.Truncate(m.Text, MaxDescription),
		Responders:  n.responders,
		Tags:        tags(inc),
		Details:     details(m),
		Entity:      notify.Truncate(inc.Service, MaxEntity),
		Source:      Source,
		Priority:    Priority(inc.Severity),
		Note:        fmt.Sprintf("paged %s (%s)", m.Role, m.Step),
	}
}

// tags returns severity, "alertgate", service and category, without
// empties or repeats, at most MaxTags.
func tags(inc *alert.Incident) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range []string{inc.Severity.String(), Source, inc.Service, inc.Category} {
		if t != "" && !seen[t] && len(out) < MaxTags {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// details returns the flat key/value details of an alert, empty values
// left out.
func details(m *notify.Message) map[string]string {
	inc := &m.Incident
	d := map[string]string{
		"incident":        inc.Key,
		"severity":        inc.Severity.String(),
		"role":            m.Role,
		"step":            m.Step,
		"service":         inc.Service,
		"category":        inc.Category,
		"runbook":         inc.Runbook,
		"ack_url":         m.AckURL,
		"incident_url":    m.IncidentURL,
		"idempotency_key": m.IdempotencyKey,
	}
	if m.Runbook != nil && m.Runbook.URL != "" {
		d["runbook"] = m.Runbook.URL
	}
	for k, v := range d {
		if v == "" {
			delete(d, k)
		}
	}
	return d
}

// action builds the body of an acknowledge or close call.
func action(m *notify.Message) *actionRequest {
	verb, by := "acknowledged", m.Incident.AcknowledgedBy
	if m.Kind == notify.KindResolve {
		verb, by = "resolved", m.Incident.ResolvedBy
	}
	note := verb + " in alertgate"
	if by != "" {
		note = verb + " by " + by
	}
	return &actionRequest{User: Source, Source: Source, Note: note}
}
