package adapters

import (
	"strings"
	"unicode/utf8"

	"github.com/alertgate/alertgate/alert"
)

// Text is normalized once, here, whatever the adapter and the storage
// engine: every string of an alert (labels, annotations, title, ...) is
// valid UTF-8 without NUL. Each NUL byte and each invalid UTF-8 sequence
// becomes U+FFFD (the replacement character "�"). PostgreSQL refuses NUL
// in text, SQLite keeps it: normalizing in the adapters makes both store
// the same thing, and a stray byte never costs a notification.
const replacementChar = "\uFFFD"

// cleanText returns s as valid UTF-8 without NUL; s itself when it is
// already, which is the common case and allocates nothing.
func cleanText(s string) string {
	if alert.IsText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, replacementChar), "\x00", replacementChar)
}

// cleanMap normalizes keys and values of m in place, returning m (or a
// new map when a key had to change).
func cleanMap(m map[string]string) map[string]string {
	dirtyKey := false
	for k, v := range m {
		if c := cleanText(k); c != k {
			dirtyKey = true
			continue
		}
		if c := cleanText(v); c != v {
			m[k] = c
		}
	}
	if !dirtyKey {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[cleanText(k)] = cleanText(v)
	}
	return out
}

// maxFingerprintBytes is the longest fingerprint kept as sent; a longer
// one is replaced by its hash (16 hex digits), which keeps repeats of the
// alert together and the database's unique index within its row limit.
const maxFingerprintBytes = 256

// shortFingerprint hashes an over-long fingerprint.
func shortFingerprint(fp string) string {
	if len(fp) <= maxFingerprintBytes {
		return fp
	}
	return alert.FingerprintLabels(map[string]string{"fingerprint": fp})
}

// MaxTruncated bounds a sender's count of dropped alerts
// (truncatedAlerts): a larger value is taken as this, so a hostile
// 9223372036854775807 cannot wreck the alertgate_alerts_truncated_total
// counter.
const MaxTruncated = 1_000_000

// truncationMark ends a value cut by Limits.
const truncationMark = "…"

// truncate cuts s to at most n bytes on a character boundary, ending with
// truncationMark when it was cut.
func truncate(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	cut := n - len(truncationMark)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncationMark
}
