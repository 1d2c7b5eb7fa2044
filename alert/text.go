package alert

import (
	"strings"
	"unicode/utf8"
)

// IsText reports whether s is text both storage engines store as it is:
// valid UTF-8 without a NUL byte (PostgreSQL refuses NUL, SQLite keeps
// it). The adapters replace what is not (U+FFFD); a person's request
// holding it is refused, naming the field.
func IsText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}
