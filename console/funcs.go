package console

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/store"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"sevClass":    func(s alert.Severity) string { return "sev-" + strings.ToLower(s.String()) },
	"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ms":          func(t time.Time) int64 { return t.UnixMilli() },
	"ago":         func(now, t time.Time) string { return human(now.Sub(t)) },
	"respClock":   responseClock,
	"resClock":    resolutionClock,
	"clockText":   clockText,
	"join":        strings.Join,
	"safeURL":     safeURL,
	"successRate": successRate,
	"silenceList": func(title string, list []store.Silence, a authView) silenceListView {
		return silenceListView{Title: title, List: list, Auth: a}
	},
}

// silenceListView is what the "silenceList" template gets.
type silenceListView struct {
	Title string
	List  []store.Silence
	Auth  authView
}

// successRate is a target's recent success rate: "75% (3 of 4 sends)".
func successRate(ok, failed uint32) string {
	n := uint64(ok) + uint64(failed)
	if n == 0 {
		return "no sends"
	}
	s := "sends"
	if n == 1 {
		s = "send"
	}
	return fmt.Sprintf("%d%% (%d of %d %s)", uint64(ok)*100/n, ok, n, s)
}

func sevClass(s alert.Severity) string { return "sev-" + strings.ToLower(s.String()) }

// clockText is an SLA clock's text when the page is rendered; the
// script keeps running clocks current.
func clockText(now time.Time, k clock) string {
	switch {
	case k.Due.IsZero():
		return "no target"
	case k.Running() && k.Breached(now):
		return "breached " + human(now.Sub(k.Due)) + " ago"
	case k.Running():
		return human(k.Due.Sub(now)) + " left"
	case k.Breached(now):
		return "missed by " + human(k.Done.Sub(k.Due))
	}
	return "met"
}

// human formats a duration coarsely: "45s", "12m 03s", "3h 20m", "2d 4h".
func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
}

// safeURL keeps http and https links and drops every other scheme
// (javascript:, data:): the template then renders the text without a
// link. html/template would neutralise them too; this makes it explicit.
func safeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}
