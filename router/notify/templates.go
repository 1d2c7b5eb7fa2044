package notify

import "go.uber.org/zap"

// Rendered is a message's human text for one target.
type Rendered struct {
	// Title is one line (line breaks become spaces).
	Title string
	Text  string
	// HTML is the e-mail HTML part ("" for other types).
	HTML string
}

// Templates are a target's compiled message templates
// (router/template.Target).
type Templates interface {
	// ApplyLogged returns a copy of m whose Summary and Text are the
	// rendered title and text, and the rendered parts; a template error is
	// logged and the message goes out with what rendered.
	ApplyLogged(m *Message, log *zap.Logger) (*Message, Rendered)
}

// Render applies t to m; without templates (a notifier built directly,
// as in unit tests) m goes out with its own Summary and Text.
func Render(t Templates, m *Message, log *zap.Logger) (*Message, Rendered) {
	if t == nil {
		return m, Rendered{Title: m.Summary, Text: m.Text}
	}
	return t.ApplyLogged(m, log)
}
