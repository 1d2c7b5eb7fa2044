package alert

import (
	"fmt"
	"strings"
)

// Severity is an incident priority, P0 (most urgent) to P3.
type Severity int

// The four severity levels of the response procedures.
const (
	P0 Severity = iota
	P1
	P2
	P3
)

// Severities lists every level, most urgent first.
var Severities = []Severity{P0, P1, P2, P3}

// String returns "P0".."P3".
func (s Severity) String() string {
	if !s.Valid() {
		return fmt.Sprintf("P?(%d)", int(s))
	}
	return fmt.Sprintf("P%d", int(s))
}

// Name returns the level's name from the procedures: Critical, High,
// Medium or Low.
func (s Severity) Name() string {
	switch s {
	case P0:
		return "Critical"
	case P1:
		return "High"
	case P2:
		return "Medium"
	case P3:
		return "Low"
	}
	return "Unknown"
}

// Valid reports whether s is P0..P3.
func (s Severity) Valid() bool { return s >= P0 && s <= P3 }

// ParseSeverity accepts "P0".."P3" (any case) and the level names
// critical, high, medium and low.
func ParseSeverity(v string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "p0", "critical":
		return P0, nil
	case "p1", "high":
		return P1, nil
	case "p2", "medium":
		return P2, nil
	case "p3", "low":
		return P3, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want P0, P1, P2 or P3)", v)
}

// MarshalText encodes the severity as "P0".."P3".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses what MarshalText writes, and the level names.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
