package server

import "github.com/alertgate/alertgate/alert"

// textField is a request field checked by refuseBadText.
type textField struct{ name, value string }

// refuseBadText answers 400 naming the first field that holds a NUL byte
// or invalid UTF-8 (a JSON "\u0000", a form's %00 or %FF). An alert's
// text is normalized by its adapter; what a person sends through the API
// (an actor, a note, a silence's matchers, an override's member) is
// refused instead, so that it is stored the same on both engines and
// never reaches PostgreSQL, which refuses NUL, as a 500.
func refuseBadText(what string, fields ...textField) error {
	for _, f := range fields {
		if !alert.IsText(f.value) {
			return badRequest("%s: %s contains a NUL byte or invalid UTF-8", what, f.name)
		}
	}
	return nil
}
