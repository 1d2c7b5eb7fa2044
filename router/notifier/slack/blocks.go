package slack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notify"
)

// Block Kit limits (api.slack.com/reference/block-kit), in characters.
const (
	maxHeader      = 150
	maxSectionText = 3000
	maxField       = 2000
	maxFallback    = 3000
)

// Payload is the incoming-webhook body: Text is the notification and
// fallback text, Blocks the rich layout.
type Payload struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks,omitempty"`
}

// Block is a Block Kit layout block (header, section, actions, divider).
type Block struct {
	Type     string   `json:"type"`
	Text     *Text    `json:"text,omitempty"`
	Fields   []Text   `json:"fields,omitempty"`
	Elements []Button `json:"elements,omitempty"`
}

// Text is a Block Kit text object of type plain_text or mrkdwn.
type Text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Button is a link button of an actions block.
type Button struct {
	Type     string `json:"type"`
	Text     Text   `json:"text"`
	URL      string `json:"url"`
	Style    string `json:"style,omitempty"`
	ActionID string `json:"action_id"`
}

// Build renders m as an incoming-webhook payload; m.Summary and m.Text
// are the rendered title and text (see Notifier).
//
// A page or info message gets a header with the severity emoji and the
// title, the severity/service/status/role fields, the text, the runbook
// (link and steps) and buttons: Acknowledge (when m has an AckURL and the
// incident is not acknowledged or resolved yet) and View incident.
// Acknowledge and resolve messages are short follow-ups:
// ":eyes: Acknowledged: [P0] INC-7 …" and the text.
func Build(m *notify.Message) Payload {
	switch m.Kind {
	case notify.KindAcknowledge:
		return followUp(m, ":eyes:")
	case notify.KindResolve:
		return followUp(m, ":white_check_mark:")
	default:
		return incident(m)
	}
}

func incident(m *notify.Message) Payload {
	inc := &m.Incident
	fallback := severityEmoji(inc.Severity) + " " + summary(m)
	if m.Kind == notify.KindPage && m.Role != "" {
		fallback += " (paging " + m.Role + ")"
	}
	blocks := []Block{
		{Type: "header", Text: &Text{
			Type:  "plain_text",
			Text:  notify.Truncate(severityEmoji(inc.Severity)+" "+summary(m), maxHeader),
			Emoji: true,
		}},
		{Type: "section", Fields: fields(m)},
	}
	if m.Text != "" {
		blocks = append(blocks, section(escape(m.Text)))
	}
	if rb := runbook(m.Runbook); rb != "" {
		blocks = append(blocks, section(rb))
	}
	var buttons []Button
	if m.AckURL != "" && inc.Status != alert.IncidentAcknowledged && inc.Status != alert.IncidentResolved {
		buttons = append(buttons, Button{
			Type: "button", Text: Text{Type: "plain_text", Text: "Acknowledge"},
			URL: m.AckURL, Style: "primary", ActionID: "acknowledge",
		})
	}
	if m.IncidentURL != "" {
		buttons = append(buttons, Button{
			Type: "button", Text: Text{Type: "plain_text", Text: "View incident"},
			URL: m.IncidentURL, ActionID: "view_incident",
		})
	}
	if len(buttons) > 0 {
		blocks = append(blocks, Block{Type: "actions", Elements: buttons})
	}
	return Payload{Text: notify.Truncate(escape(fallback), maxFallback), Blocks: blocks}
}

func followUp(m *notify.Message, emoji string) Payload {
	line := emoji + " " + summary(m)
	text := escape(line)
	if m.IncidentURL != "" {
		text += " · " + link(m.IncidentURL, "view")
	}
	blocks := []Block{section(text)}
	if m.Text != "" {
		blocks = append(blocks, section(escape(m.Text)))
	}
	return Payload{Text: notify.Truncate(escape(line), maxFallback), Blocks: blocks}
}

func fields(m *notify.Message) []Text {
	inc := &m.Incident
	f := []Text{field("Severity", inc.Severity.String()+" "+inc.Severity.Name())}
	if inc.Service != "" {
		f = append(f, field("Service", inc.Service))
	}
	f = append(f, field("Status", string(inc.Status)))
	if m.Role != "" {
		f = append(f, field("Role", m.Role))
	}
	if inc.Category != "" {
		f = append(f, field("Category", inc.Category))
	}
	if inc.AlertCount > 0 {
		f = append(f, field("Alerts", strconv.Itoa(inc.AlertCount)+" ("+strconv.Itoa(inc.FiringCount)+" firing)"))
	}
	return f
}

func field(name, value string) Text {
	return Text{Type: "mrkdwn", Text: notify.Truncate("*"+name+"*\n"+escape(value), maxField)}
}

func section(mrkdwn string) Block {
	return Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: notify.Truncate(mrkdwn, maxSectionText)}}
}

func runbook(rb *notify.Runbook) string {
	if rb == nil {
		return ""
	}
	title := rb.Title
	if title == "" {
		title = rb.Name
	}
	var b strings.Builder
	b.WriteString("*Runbook:* ")
	if rb.URL != "" {
		b.WriteString(link(rb.URL, title))
	} else {
		b.WriteString(escape(title))
	}
	for i, s := range rb.Steps {
		fmt.Fprintf(&b, "\n%d. %s", i+1, escape(s))
	}
	return b.String()
}

// summary is m.Summary or, without one, "[P0] INC-7 title".
func summary(m *notify.Message) string {
	if m.Summary != "" {
		return m.Summary
	}
	return fmt.Sprintf("[%s] %s %s", m.Incident.Severity, m.Incident.Key, m.Incident.Title)
}

func severityEmoji(s alert.Severity) string {
	switch s {
	case alert.P0:
		return ":red_circle:"
	case alert.P1:
		return ":large_orange_circle:"
	case alert.P2:
		return ":large_yellow_circle:"
	default:
		return ":large_blue_circle:"
	}
}

// escape escapes Slack's mrkdwn control characters.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return mrkdwnEscaper.Replace(s) }

// link renders <url|text>. Slack decodes &amp; in link URLs; the
// characters that would end the link early are percent-encoded.
var linkURLEscaper = strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C")

func link(url, text string) string {
	return "<" + linkURLEscaper.Replace(url) + "|" + strings.ReplaceAll(escape(text), "|", "¦") + ">"
}
