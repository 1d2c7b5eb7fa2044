package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/alertgate/alertgate/alert"
)

// checkText refuses (ErrInvalid, naming the field) an alert with text
// that is not valid UTF-8 or holds a NUL byte. The adapters normalize
// text before it gets here (adapters.cleanText); this keeps anything
// else from reaching PostgreSQL, which refuses NUL where SQLite stores
// it, so both engines take the same alerts.
func checkText(i int, a *alert.Alert) error {
	bad := func(s string) bool { return !alert.IsText(s) }
	for _, f := range []struct {
		name string
		v    string
	}{
		{"source", a.Source}, {"fingerprint", a.Fingerprint}, {"title", a.Title}, {"description", a.Description},
		{"service", a.Service}, {"generator_url", a.GeneratorURL}, {"severity_hint", a.SeverityHint},
	} {
		if bad(f.v) {
			return textError(i, f.name)
		}
	}
	for _, m := range []struct {
		name string
		m    map[string]string
	}{{"labels", a.Labels}, {"annotations", a.Annotations}} {
		// The common case scans without sorting; a bad alert names its
		// first bad key in key order, so the answer does not vary.
		var badKeys []string
		for k, v := range m.m {
			if bad(k) || bad(v) {
				badKeys = append(badKeys, k)
			}
		}
		if len(badKeys) > 0 {
			k := slices.Min(badKeys)
			return textError(i, m.name+"."+strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", `\x00`), "\uFFFD"))
		}
	}
	return nil
}

func textError(i int, field string) error {
	return fmt.Errorf("%w: alerts[%d].%s: contains a NUL byte or invalid UTF-8", ErrInvalid, i, field)
}

// permanent reports whether a failed ingest transaction failed because of
// the data itself, so that trying again cannot help: PostgreSQL's data
// exceptions (class 22: a NUL or invalid byte, a value out of range) and
// program limits (class 54: an index row too large), SQLite's "string or
// blob too big". Such a failure is the sender's (400), never a 503 that
// makes it retry the same body forever.
func permanent(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "54")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_TOOBIG
	}
	return false
}

// Refused reports whether err is a database's refusal of the data itself
// (see permanent): the request's fault, answered 4xx, never a 503 or 500.
func Refused(err error) bool { return err != nil && permanent(err) }

// refusal describes a permanent failure for the client: what the database
// refused and, when it says, in which column.
func refusal(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		var parts []string
		for _, p := range [][2]string{{"table", pe.TableName}, {"column", pe.ColumnName}} {
			if p[1] != "" {
				parts = append(parts, p[0]+" "+p[1])
			}
		}
		where := ""
		if len(parts) > 0 {
			where = " (" + strings.Join(parts, ", ") + ")"
		}
		return fmt.Errorf("%w: the database refused the alerts%s: %s (SQLSTATE %s)", ErrInvalid, where, pe.Message, pe.Code)
	}
	return fmt.Errorf("%w: the database refused the alerts: %v", ErrInvalid, err)
}
