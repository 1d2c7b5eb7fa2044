package notify

import "unicode/utf8"

// Truncate cuts s to at most n runes, ending in "…" when cut; n ≤ 0 gives
// "". Services cap their fields (Slack's header at 150 characters,
// PagerDuty's summary at 1024), so every notifier cuts with it.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
