package alert

import (
	"hash/fnv"
	"sort"
	"strconv"
	"time"
)

// Status is whether an alert is currently firing or has resolved.
type Status string

// Alert statuses.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == StatusFiring || s == StatusResolved }

// Alert is one normalized alert, whatever format it arrived in.
//
// Adapters fill every field they can; Fingerprint is always set (the
// sender's own identity when it has one, else FingerprintLabels of the
// identifying labels). Adapters must not retain the request body: every
// string here is a copy.
type Alert struct {
	// Source is the configured source name the alert arrived on.
	Source string `json:"source"`
	// SourceType is the adapter type of that source (alertmanager, grafana,
	// healthcheck, generic).
	SourceType string `json:"source_type"`
	Status     Status `json:"status"`
	// Fingerprint identifies the alert within its source across repeats,
	// firing and resolved copies.
	Fingerprint  string            `json:"fingerprint"`
	Labels       map[string]string `json:"labels,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Title        string            `json:"title"`
	Description  string            `json:"description,omitempty"`
	Service      string            `json:"service,omitempty"`
	StartsAt     time.Time         `json:"starts_at"`
	EndsAt       time.Time         `json:"ends_at,omitzero"`
	GeneratorURL string            `json:"generator_url,omitempty"`
	// SeverityHint is the sender's own severity word (Alertmanager's
	// conventional severity label, a mapped field of a generic payload), if
	// any. Rules read it; it is not a Severity yet.
	SeverityHint string `json:"severity_hint,omitempty"`
	// Impact carries impact hints found in the payload.
	Impact Impact `json:"impact,omitzero"`
}

// Impact holds optional hints about how bad an alert is.
type Impact struct {
	// AffectedUsersPct is the share of users affected, 0–100, when known.
	AffectedUsersPct float64 `json:"affected_users_pct,omitempty"`
	// Known reports whether AffectedUsersPct was present in the payload.
	Known bool `json:"known,omitempty"`
}

// ServiceLabels are the labels, in order of preference, that name the
// affected service when the payload has no explicit service field.
var ServiceLabels = []string{"service", "service_name", "app", "job"}

// ServiceFromLabels returns the first non-empty ServiceLabels value.
func ServiceFromLabels(labels map[string]string) string {
	for _, k := range ServiceLabels {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// FingerprintLabels returns a stable 16-hex-digit hash of a label set, in the
// style of Alertmanager's fingerprints: the same labels always give the same
// fingerprint, whatever their order.
func FingerprintLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	s := strconv.FormatUint(h.Sum64(), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}
