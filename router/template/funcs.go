package template

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/helpers/templates"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"github.com/alertgate/alertgate/router/notify"
)

// Funcs are the functions every template may call. Most are Alertmanager's
// (same names, same argument order, so pipelines read the same):
//
//	toUpper, toLower, title, trimSpace   strings
//	join SEP LIST                        LIST joined by SEP ({{ .List | join ", " }})
//	match RE TEXT                        whether RE matches TEXT
//	reReplaceAll RE REPL TEXT            regexp replacement
//	stringSlice A B …                    a []string
//	safeHtml, safeUrl, urlUnescape       HTML and URL helpers
//	date LAYOUT TIME, tz ZONE TIME       time formatting
//	humanizeDuration SECONDS|DURATION    "1h 5m 0s", as Prometheus writes it
//	toJson V, list A B …, dict K V …     values
//	base64encode, base64decode           URL-safe base64
//
// and a few of alertgate's own: json (an alias of toJson, for the
// webhook body), add A B (integers, for numbering), truncate N TEXT (at
// most N runes, "…" when cut).
var Funcs = map[string]any{
	"toUpper": strings.ToUpper,
	"toLower": strings.ToLower,
	"title": func(text string) string {
		// A caser must not be shared between goroutines.
		return cases.Title(language.AmericanEnglish).String(text)
	},
	"trimSpace":    strings.TrimSpace,
	"join":         join,
	"match":        regexp.MatchString,
	"reReplaceAll": reReplaceAll,
	"stringSlice":  func(s ...string) []string { return s },
	"safeHtml":     func(text string) htmltemplate.HTML { return htmltemplate.HTML(text) },
	"safeUrl":      func(text string) htmltemplate.URL { return htmltemplate.URL(text) },
	"urlUnescape":  url.QueryUnescape,
	"date":         func(layout string, t time.Time) string { return t.Format(layout) },
	"tz": func(name string, t time.Time) (time.Time, error) {
		loc, err := time.LoadLocation(name)
		if err != nil {
			return time.Time{}, err
		}
		return t.In(loc), nil
	},
	"humanizeDuration": humanizeDuration,
	"toJson":           toJSON,
	"json":             toJSON,
	"list":             func(args ...any) []any { return append([]any{}, args...) },
	"dict":             dict,
	"base64encode":     func(text string) string { return base64.URLEncoding.EncodeToString([]byte(text)) },
	"base64decode": func(text string) (string, error) {
		b, err := base64.URLEncoding.DecodeString(text)
		return string(b), err
	},
	"add":      func(a, b int) int { return a + b },
	"truncate": truncate,
}

// join is strings.Join with the separator first, for pipelines; it takes
// any slice or array (elements printed with fmt).
func join(sep string, v any) (string, error) {
	if s, ok := v.([]string); ok {
		return strings.Join(s, sep), nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return "", nil
	case rv.Kind() == reflect.Slice, rv.Kind() == reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(rv.Index(i).Interface())
		}
		return strings.Join(parts, sep), nil
	}
	return "", fmt.Errorf("join: want a slice or array, got %T", v)
}

func reReplaceAll(pattern, repl, text string) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", fmt.Errorf("reReplaceAll: %w", err)
	}
	return re.ReplaceAllString(text, repl), nil
}

// humanizeDuration is Prometheus's: seconds as a number (or a
// time.Duration) to "1h 5m 0s", "2d 3h 0m 0s", "1.5s", "10ms".
func humanizeDuration(v any) (string, error) {
	if d, ok := v.(time.Duration); ok {
		v = d.Seconds()
	}
	return templates.HumanizeDuration(v)
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: want key/value pairs, got %d arguments", len(kv))
	}
	out := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		out[k] = kv[i+1]
	}
	return out, nil
}

// truncate is notify.Truncate with the text last, for pipelines.
func truncate(n int, s string) string { return notify.Truncate(s, n) }
