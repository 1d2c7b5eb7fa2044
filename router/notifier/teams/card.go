package teams

// The envelope and Adaptive Card types Build produces
// (adaptivecards.io/explorer), limited to what alertgate uses.

// Envelope constants, as Alertmanager's msteamsv2 notifier sends them.
const (
	MessageType        = "message"
	AdaptiveCardType   = "application/vnd.microsoft.card.adaptive"
	AdaptiveCardSchema = "http://adaptivecards.io/schemas/adaptive-card.json"
	AdaptiveCardVer    = "1.2"
)

// Adaptive Card colors of the title TextBlock.
const (
	ColorAttention = "Attention" // triggered
	ColorWarning   = "Warning"   // acknowledged
	ColorGood      = "Good"      // resolved
)

// Payload is the webhook body: a message with one Adaptive Card
// attachment.
type Payload struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment wraps the card. ContentURL is always null.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an AdaptiveCard.
type Card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []Element `json:"body"`
	Actions []Action  `json:"actions,omitempty"`
	MSTeams MSTeams   `json:"msteams"`
}

// MSTeams holds Teams-specific card options.
type MSTeams struct {
	Width string `json:"width"`
}

// Element is a body element: a TextBlock (Text and its styling) or a
// FactSet (Facts).
type Element struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	Style    string `json:"style,omitempty"`
	Color    string `json:"color,omitempty"`
	FontType string `json:"fontType,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Facts    []Fact `json:"facts,omitempty"`
}

// Fact is one name/value row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is an Action.OpenUrl button.
type Action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Style string `json:"style,omitempty"`
}

// envelope wraps body and actions in the message and card.
func envelope(body []Element, actions []Action) Payload {
	return Payload{
		Type: MessageType,
		Attachments: []Attachment{{
			ContentType: AdaptiveCardType,
			Content: Card{
				Schema:  AdaptiveCardSchema,
				Type:    "AdaptiveCard",
				Version: AdaptiveCardVer,
				Body:    body,
				Actions: actions,
				MSTeams: MSTeams{Width: "full"},
			},
		}},
	}
}

func textBlock(text string) Element {
	return Element{Type: "TextBlock", Text: text, Wrap: true}
}

func title(text, color string) Element {
	return Element{
		Type: "TextBlock", Text: text, Weight: "Bolder", Size: "Medium",
		Wrap: true, Style: "heading", Color: color,
	}
}

func openURL(title, url, style string) Action {
	return Action{Type: "Action.OpenUrl", Title: title, URL: url, Style: style}
}
