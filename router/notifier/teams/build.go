package teams

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// MaxBodyBytes is the largest body Build produces: Teams rejects
// messages over 28 KB.
const MaxBodyBytes = 28 << 10

// maxURL is the longest link put on a button; longer ones (and anything
// that is not a plain http(s) URL) are left out.
const maxURL = 2048

// limits bound the variable parts of a card, in runes (steps and alerts
// in lines).
type limits struct {
	title, fact, text, line int
	alerts, steps           int
}

// levels are tried in order until the encoded card fits MaxBodyBytes.
// The last one fits whatever the message holds: every string is cut and
// URLs are at most maxURL bytes.
var levels = []limits{
	{title: 300, fact: 200, text: 4000, line: 300, alerts: 20, steps: 20},
	{title: 200, fact: 200, text: 1500, line: 200, alerts: 5, steps: 10},
	{title: 150, fact: 100, text: 400, line: 100, alerts: 0, steps: 3},
	{title: 100, fact: 60, text: 100, line: 60, alerts: 0, steps: 0},
}

// Build renders m as a Workflows webhook body holding one Adaptive Card.
// m.Summary and m.Text are the rendered title and text (see Notifier);
// without a Summary the title is "P0 INC-7: <title>".
//
// A page or info message gets the title, a FactSet
// (Severity, Service, Status, Role for pages, Step, Channel for info,
// Category, Alerts), the text, the alerts, the runbook title with its
// steps in monospace, and buttons: Acknowledge (when m has an AckURL and
// the incident is triggered), View incident and Runbook. Acknowledge and
// resolve messages are follow-ups titled "Acknowledged: P0 INC-7: …" and
// "Resolved: P0 INC-7: …" saying by whom (and after how long).
//
// The text, the alert list and the runbook steps are shortened until the
// encoded body is at most MaxBodyBytes.
func Build(m *notify.Message) Payload {
	var p Payload
	for _, l := range levels {
		p = build(m, l)
		if b, err := encode(p); err == nil && len(b) <= MaxBodyBytes {
			break
		}
	}
	return p
}

func build(m *notify.Message, l limits) Payload {
	switch m.Kind {
	case notify.KindAcknowledge:
		return followUp(m, l, ColorWarning)
	case notify.KindResolve:
		return followUp(m, l, ColorGood)
	default:
		return incident(m, l)
	}
}

func incident(m *notify.Message, l limits) Payload {
	inc := &m.Incident
	body := []Element{
		title(cut(heading(m), l.title), statusColor(inc.Status)),
		{Type: "FactSet", Facts: facts(m, l.fact)},
	}
	if m.Text != "" {
		body = append(body, textBlock(cut(m.Text, l.text)))
	}
	if s := alertList(m.Alerts, l); s != "" {
		body = append(body, textBlock(s))
	}
	body = append(body, runbook(m.Runbook, l)...)

	var actions []Action
	if u, ok := link(m.AckURL); ok && inc.Status == alert.IncidentTriggered {
		actions = append(actions, openURL("Acknowledge", u, "positive"))
	}
	actions = appendLinks(m, actions)
	return envelope(body, actions)
}

func followUp(m *notify.Message, l limits, color string) Payload {
	inc := &m.Incident
	var body []Element
	if m.Summary != "" {
		// The rendered title; the text says by whom and after how long.
		body = append(body, title(cut(m.Summary, l.title), color))
	} else {
		what, by := "Acknowledged", inc.AcknowledgedBy
		if m.Kind == notify.KindResolve {
			what, by = "Resolved", inc.ResolvedBy
		}
		body = append(body, title(cut(what+": "+heading(m), l.title), color))
		line := ""
		if by != "" {
			line = what + " by " + by
		}
		if m.Kind == notify.KindResolve && !inc.ResolvedAt.IsZero() && !inc.OpenedAt.IsZero() && inc.ResolvedAt.After(inc.OpenedAt) {
			if line == "" {
				line = what
			}
			line += " after " + inc.ResolvedAt.Sub(inc.OpenedAt).Round(time.Second).String()
		}
		if line != "" {
			body = append(body, textBlock(cut(line, l.line)))
		}
	}
	f := []Fact{fact("Severity", inc.Severity.String()+" "+inc.Severity.Name(), l.fact)}
	if inc.Service != "" {
		f = append(f, fact("Service", inc.Service, l.fact))
	}
	f = append(f, fact("Status", string(inc.Status), l.fact))
	body = append(body, Element{Type: "FactSet", Facts: f})
	if m.Text != "" {
		body = append(body, textBlock(cut(m.Text, l.text)))
	}
	var actions []Action
	if u, ok := link(m.IncidentURL); ok {
		actions = append(actions, openURL("View incident", u, ""))
	}
	return envelope(body, actions)
}

// appendLinks adds the View incident and Runbook buttons.
func appendLinks(m *notify.Message, actions []Action) []Action {
	if u, ok := link(m.IncidentURL); ok {
		actions = append(actions, openURL("View incident", u, ""))
	}
	if m.Runbook != nil {
		if u, ok := link(m.Runbook.URL); ok {
			actions = append(actions, openURL("Runbook", u, ""))
		}
	}
	return actions
}

// heading is the rendered title, m.Summary, or "P0 INC-7: title".
func heading(m *notify.Message) string {
	if m.Summary != "" {
		return m.Summary
	}
	return fmt.Sprintf("%s %s: %s", m.Incident.Severity, m.Incident.Key, m.Incident.Title)
}

func statusColor(s alert.IncidentStatus) string {
	switch s {
	case alert.IncidentAcknowledged:
		return ColorWarning
	case alert.IncidentResolved:
		return ColorGood
	default:
		return ColorAttention
	}
}

func facts(m *notify.Message, n int) []Fact {
	inc := &m.Incident
	f := []Fact{fact("Severity", inc.Severity.String()+" "+inc.Severity.Name(), n)}
	if inc.Service != "" {
		f = append(f, fact("Service", inc.Service, n))
	}
	f = append(f, fact("Status", string(inc.Status), n))
	if m.Kind == notify.KindPage && m.Role != "" {
		f = append(f, fact("Role", m.Role, n))
	}
	if m.Step != "" {
		f = append(f, fact("Step", m.Step, n))
	}
	if m.Kind == notify.KindInfo && m.Channel != "" {
		f = append(f, fact("Channel", m.Channel, n))
	}
	if inc.Category != "" {
		f = append(f, fact("Category", inc.Category, n))
	}
	if inc.AlertCount > 0 {
		f = append(f, fact("Alerts", strconv.Itoa(inc.AlertCount)+" ("+strconv.Itoa(inc.FiringCount)+" firing)", n))
	}
	return f
}

func fact(name, value string, n int) Fact {
	return Fact{Title: name, Value: cut(value, n)}
}

// alertList renders up to l.alerts alerts as a Markdown list, then
// "- … and N more".
func alertList(alerts []notify.AlertSummary, l limits) string {
	if len(alerts) == 0 || l.alerts == 0 {
		return ""
	}
	var b strings.Builder
	for i, a := range alerts {
		if i == l.alerts {
			fmt.Fprintf(&b, "\n- … and %d more", len(alerts)-i)
			break
		}
		line := a.Title
		if a.Description != "" {
			line += ": " + a.Description
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("- " + cut(string(a.Status)+" "+line, l.line))
	}
	return b.String()
}

// runbook renders the runbook title and, in monospace, its numbered
// steps. Its URL is a button (see appendLinks).
func runbook(rb *notify.Runbook, l limits) []Element {
	if rb == nil {
		return nil
	}
	name := rb.Title
	if name == "" {
		name = rb.Name
	}
	out := []Element{textBlock("**Runbook:** " + cut(name, l.line))}
	var steps []string
	for i, s := range rb.Steps {
		if i == l.steps {
			steps = append(steps, fmt.Sprintf("… %d more steps", len(rb.Steps)-i))
			break
		}
		steps = append(steps, cut(fmt.Sprintf("%d. %s", i+1, s), l.line))
	}
	if len(steps) > 0 {
		el := textBlock(strings.Join(steps, "\n"))
		el.FontType = "Monospace"
		out = append(out, el)
	}
	return out
}

// link returns u when it is a usable button target: an absolute http(s)
// URL of at most maxURL bytes of valid UTF-8 (url.Parse refuses control
// characters).
func link(u string) (string, bool) {
	if u == "" || len(u) > maxURL || !utf8.ValidString(u) {
		return "", false
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", false
	}
	return u, true
}

// cut is notify.Truncate after dropping invalid UTF-8, which Teams
// rejects.
func cut(s string, n int) string { return notify.Truncate(strings.ToValidUTF8(s, ""), n) }
