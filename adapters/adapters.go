package adapters

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// ErrBadPayload is returned, wrapped with the reason, when a body cannot be
// decoded: not JSON, a field of the wrong type, a missing alerts array, an
// invalid status. The reason names the offending field's path, e.g.
// "bad payload: alerts[2].labels: got string, want object".
var ErrBadPayload = errors.New("bad payload")

// MaxAlerts is the most alerts one body may carry.
const MaxAlerts = 10000

// Source types understood by New.
const (
	TypeAlertmanager = "alertmanager"
	TypeGrafana      = "grafana"
	TypeHealthcheck  = "healthcheck"
	TypeGeneric      = "generic"
)

// Header gives access to the request headers. http.Header satisfies it; the
// server wraps fasthttp's headers.
type Header interface {
	Get(key string) string
}

// Batch is what one request body decodes to.
type Batch struct {
	Alerts []alert.Alert `json:"alerts"`
	// Truncated is how many alerts the sender dropped (Alertmanager and
	// Grafana truncatedAlerts, from max_alerts).
	Truncated int `json:"truncated,omitempty"`
	// GroupKey is the sender's group key, if it has one.
	GroupKey string `json:"group_key,omitempty"`
	// Receiver is the Alertmanager receiver name, unescaped (it arrives
	// regexp.QuoteMeta-escaped: "web\\.hook" becomes "web.hook").
	Receiver string `json:"receiver,omitempty"`
}

// Decoder turns one request body into alerts. Implementations are safe for
// concurrent use and do not retain body.
type Decoder interface {
	Decode(h Header, body []byte) (Batch, error)
}

// New returns the decoder for a source's type.
func New(src config.Source) (Decoder, error) {
	base := source{name: src.Name, typ: src.Type, labels: cleanMap(maps.Clone(src.Labels))} // cleaned once, not per alert
	switch src.Type {
	case TypeAlertmanager:
		return NewAlertmanager(src, time.Now), nil
	case TypeGrafana:
		return &Grafana{source: base}, nil
	case TypeHealthcheck:
		return &Healthcheck{source: base}, nil
	case TypeGeneric:
		return newGeneric(base, src.Mapping)
	default:
		return nil, fmt.Errorf("source %q: unknown type %q (want %s, %s, %s or %s)",
			src.Name, src.Type, TypeAlertmanager, TypeGrafana, TypeHealthcheck, TypeGeneric)
	}
}

// badf returns ErrBadPayload wrapped with a formatted reason.
func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, args...))
}

// source is what every decoder knows about the source it decodes for.
type source struct {
	name   string
	typ    string
	labels map[string]string
}

// finish fills the fields every adapter sets the same way: source, merged
// labels (the alert's own labels win over the source's), non-nil
// annotations, and, when the adapter left them empty, the service,
// severity hint, impact and fingerprint (a hash of own, the alert's own
// labels). own becomes the alert's label map when the source adds none.
//
// Text is normalized first (see cleanText), so the derived fields and the
// fingerprint are computed from what is stored; a fingerprint longer than
// maxFingerprintBytes is replaced by its hash.
func (s *source) finish(a *alert.Alert, own map[string]string) {
	a.Source = s.name
	a.SourceType = s.typ
	own = cleanMap(own)
	a.Labels = mergeLabels(s.labels, own) // both clean
	a.Annotations = cleanMap(a.Annotations)
	for _, p := range []*string{&a.Fingerprint, &a.Title, &a.Description, &a.Service, &a.GeneratorURL, &a.SeverityHint} {
		*p = cleanText(*p)
	}
	a.Fingerprint = shortFingerprint(a.Fingerprint)
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	if a.Service == "" {
		a.Service = alert.ServiceFromLabels(a.Labels)
	}
	if a.SeverityHint == "" {
		a.SeverityHint = a.Labels["severity"]
	}
	if !a.Impact.Known {
		a.Impact = impactFrom(a.Labels, a.Annotations)
	}
	if a.Fingerprint == "" {
		a.Fingerprint = alert.FingerprintLabels(own)
	}
}

// mergeLabels returns base overlaid with own. own is returned as is (it is
// a fresh map owned by the caller) when base is empty.
func mergeLabels(base, own map[string]string) map[string]string {
	if len(base) == 0 {
		if own == nil {
			return map[string]string{}
		}
		return own
	}
	out := make(map[string]string, len(base)+len(own))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// ImpactKeys are the label or annotation names read, in order, for the
// affected-users percentage. "impact" counts only when it is a number.
var ImpactKeys = []string{"affected_users_pct", "impact"}

// impactFrom reads the affected-users percentage from labels, then
// annotations: "60", "60%" and "12.5 %" all parse; other values are ignored.
func impactFrom(labels, annotations map[string]string) alert.Impact {
	for _, k := range ImpactKeys {
		for _, m := range []map[string]string{labels, annotations} {
			if pct, ok := parsePercent(m[k]); ok {
				return alert.Impact{AffectedUsersPct: pct, Known: true}
			}
		}
	}
	return alert.Impact{}
}

// parsePercent parses "60", "60%" or "60 %" as a number from 0 to 100.
func parsePercent(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
		return 0, false
	}
	return f, true
}

// Timestamp layouts accepted besides RFC 3339. Those without a zone are
// UTC (Uptime Kuma sends "2023-07-31 18:56:15.374" in UTC).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime parses a timestamp; "" and Alertmanager's
// "0001-01-01T00:00:00Z" give the zero time. Results are in UTC.
func parseTime(path, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.IsZero() {
				return time.Time{}, nil
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, badf("%s: invalid time %q (want RFC 3339)", path, s)
}

// parseStatus checks a firing/resolved status; fallback is used when s is
// empty.
func parseStatus(path, s string, fallback alert.Status) (alert.Status, error) {
	if s == "" {
		s = string(fallback)
	}
	st := alert.Status(s)
	if !st.Valid() {
		return "", badf("%s: invalid status %q (want firing or resolved)", path, s)
	}
	return st, nil
}

// checkCount rejects bodies with more than MaxAlerts alerts.
func checkCount(path string, n int) error {
	if n > MaxAlerts {
		return badf("%s: %d alerts, at most %d allowed", path, n, MaxAlerts)
	}
	return nil
}

// setIf sets m[k] = v when v is not empty.
func setIf(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// firstOf returns the first non-empty value.
func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
