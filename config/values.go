package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Secret is a string that never prints: String, YAML and JSON give
// "<secret>". Value returns the real text.
type Secret string

const redacted = "<secret>"

// Value returns the secret's text.
func (s Secret) Value() string { return string(s) }

// String returns "<secret>" (or "" when unset).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// MarshalYAML prints "<secret>".
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON prints "<secret>".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Duration is a time.Duration written like "15m", "2h", "1d" or "1w".
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats like "1h30m", "1d" or "1w".
func (d Duration) String() string { return model.Duration(d).String() }

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := model.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return nodeError(n, fmt.Errorf("invalid duration %q (use e.g. 30s, 15m, 2h, 1d, 1w)", s))
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML prints the duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Digest periods of the escalation matrix.
const (
	DigestDaily   = "next-day"
	DigestWeekly  = "weekly"
	DigestMonthly = "monthly"
)

// Cell is one cell of the escalation matrix: page after Delay ("now",
// "15m"), a digest ("next-day", "weekly", "monthly"), or "never".
type Cell struct {
	Delay  time.Duration
	Digest string
	Never  bool
}

// Timed reports whether the cell pages at a delay (not a digest, not never).
func (c Cell) Timed() bool { return !c.Never && c.Digest == "" }

// String formats the cell as written in YAML.
func (c Cell) String() string {
	switch {
	case c.Never:
		return "never"
	case c.Digest != "":
		return c.Digest
	case c.Delay == 0:
		return "now"
	}
	return model.Duration(c.Delay).String()
}

// ParseCell parses a matrix cell.
func ParseCell(s string) (Cell, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "now", "immediate", "0", "0s":
		return Cell{}, nil
	case "never", "-":
		return Cell{Never: true}, nil
	case "next-day", "daily":
		return Cell{Digest: DigestDaily}, nil
	case "weekly":
		return Cell{Digest: DigestWeekly}, nil
	case "monthly":
		return Cell{Digest: DigestMonthly}, nil
	default:
		d, err := model.ParseDuration(v)
		if err != nil {
			return Cell{}, fmt.Errorf("invalid escalation cell %q (use now, a duration like 15m, next-day, weekly, monthly or never)", s)
		}
		return Cell{Delay: time.Duration(d)}, nil
	}
}

// UnmarshalYAML parses a cell.
func (c *Cell) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseCell(s)
	if err != nil {
		return nodeError(n, err)
	}
	*c = v
	return nil
}

// MarshalYAML prints the cell.
func (c Cell) MarshalYAML() (any, error) { return c.String(), nil }

// nodeError reports a bad value as a *yaml.TypeError carrying the node's
// line, so the decoder records it and keeps going instead of aborting:
// Load then reports every bad value, each with its line.
func nodeError(n *yaml.Node, err error) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
}
