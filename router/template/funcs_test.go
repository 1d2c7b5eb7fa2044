package template

import (
	"bytes"
	htmltemplate "html/template"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFuncs(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, tmpl string
		data       any
		want       string
	}{
		{name: "toUpper", tmpl: `{{ "checkout" | toUpper }}`, want: "CHECKOUT"},
		{name: "toLower", tmpl: `{{ "CheckOut" | toLower }}`, want: "checkout"},
		{name: "title", tmpl: `{{ "checkout is down" | title }}`, want: "Checkout Is Down"},
		{name: "trimSpace", tmpl: `{{ "  x \n" | trimSpace }}`, want: "x"},
		{name: "join strings, separator first", tmpl: `{{ . | join ", " }}`, data: []string{"a", "b"}, want: "a, b"},
		{name: "join any slice", tmpl: `{{ . | join "+" }}`, data: []int{1, 2, 3}, want: "1+2+3"},
		{name: "join nil", tmpl: `{{ join "," . }}`, data: nil, want: ""},
		{name: "match", tmpl: `{{ match "^check" "checkout" }} {{ match "^pay" "checkout" }}`, want: "true false"},
		{name: "reReplaceAll", tmpl: `{{ reReplaceAll "(\\w+):(\\d+)" "$1 port $2" "api:8080" }}`, want: "api port 8080"},
		{name: "stringSlice", tmpl: `{{ stringSlice "a" "b" | join "/" }}`, want: "a/b"},
		{name: "urlUnescape", tmpl: `{{ urlUnescape "a%3Db" }}`, want: "a=b"},
		{name: "date", tmpl: `{{ date "15:04 Jan 2" . }}`, data: at, want: "10:00 Nov 27"},
		{name: "tz", tmpl: `{{ tz "Europe/Berlin" . | date "15:04 MST" }}`, data: at, want: "11:00 CET"},
		{name: "humanizeDuration seconds", tmpl: `{{ humanizeDuration 3725 }}`, want: "1h 2m 5s"},
		{name: "humanizeDuration duration", tmpl: `{{ humanizeDuration . }}`, data: 90 * time.Second, want: "1m 30s"},
		{name: "toJson", tmpl: `{{ toJson . }}`, data: map[string]string{"a": "<b>"}, want: `{"a":"\u003cb\u003e"}`},
		{name: "json alias", tmpl: `{{ json "x" }}`, want: `"x"`},
		{name: "list and dict", tmpl: `{{ $d := dict "k" (list 1 2) }}{{ index $d "k" | join "," }}`, want: "1,2"},
		{name: "base64", tmpl: `{{ base64encode "a?b" }} {{ base64decode "YT9i" }}`, want: "YT9i a?b"},
		{name: "add", tmpl: `{{ add 1 2 }}`, want: "3"},
		{name: "truncate", tmpl: `{{ truncate 5 "checkout" }}|{{ truncate 8 "checkout" }}`, want: "chec…|checkout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := texttemplate.New("").Funcs(Funcs).Parse(tt.tmpl)
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, tm.Execute(&b, tt.data))
			require.Equal(t, tt.want, b.String())
		})
	}
}

func TestFuncErrors(t *testing.T) {
	tests := []struct{ name, tmpl, want string }{
		{name: "bad regexp", tmpl: `{{ reReplaceAll "(" "" "x" }}`, want: "reReplaceAll: error parsing regexp"},
		{name: "join of a map", tmpl: `{{ join "," (dict "a" 1) }}`, want: "join: want a slice or array"},
		{name: "odd dict", tmpl: `{{ dict "a" }}`, want: "dict: want key/value pairs"},
		{name: "unknown zone", tmpl: `{{ tz "Mars/Olympus" .At }}`, want: "unknown time zone Mars/Olympus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := texttemplate.New("").Funcs(Funcs).Parse(tt.tmpl)
			require.NoError(t, err)
			err = tm.Execute(&bytes.Buffer{}, map[string]any{"At": time.Now()})
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// safeHtml and safeUrl mark text as trusted in HTML templates, as in
// Alertmanager; everything else is escaped.
func TestSafeHTML(t *testing.T) {
	tm, err := htmltemplate.New("").Funcs(Funcs).Parse(`{{ . }}|{{ safeHtml . }}|<a href="{{ safeUrl "javascript:x" }}">`)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, tm.Execute(&b, "<b>"))
	require.Equal(t, `&lt;b&gt;|<b>|<a href="javascript:x">`, b.String())
}

func TestShort(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{45 * time.Second, "45s"},
		{12*time.Minute + 30*time.Second, "12 min"},
		{time.Hour, "1h"},
		{65 * time.Minute, "1h 5m"},
		{48 * time.Hour, "2d"},
		{51 * time.Hour, "2d 3h"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, Short(tt.d))
		})
	}
}
