package adapters

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
)

// hostile is one hostile payload: either it decodes (with the default
// Limits applied) and check holds, or it is refused with wantErr.
type hostile struct {
	name    string
	src     config.Source
	body    string
	wantErr string
	check   func(t *testing.T, b Batch)
}

var (
	amSource      = config.Source{Name: "am", Type: TypeAlertmanager}
	probeSource   = config.Source{Name: "probes", Type: TypeHealthcheck}
	genericSource = config.Source{Name: "generic", Type: TypeGeneric, Mapping: fuzzMapping}
)

// amBody wraps alerts in an Alertmanager v4 webhook.
func amBody(extra, alerts string) string {
	return `{"version":"4","status":"firing",` + extra + `"alerts":[` + alerts + `]}`
}

// manyLabels renders n distinct labels as JSON members.
func manyLabels(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"l%d":"v"`, i)
	}
	return strings.Join(parts, ",")
}

// hostilePayloads is the table of payloads built to hurt the gateway; it
// also seeds the fuzz targets.
func hostilePayloads() []hostile {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	return []hostile{
		{name: "NUL in an annotation does not block the other alert", src: amSource,
			body: amBody("", `{"labels":{"alertname":"Bad"},"annotations":{"summary":"bad\u0000title"}},{"labels":{"alertname":"Good"}}`),
			check: func(t *testing.T, b Batch) {
				require.Len(t, b.Alerts, 2)
				require.Equal(t, "bad\uFFFDtitle", b.Alerts[0].Title)
				require.Equal(t, "bad\uFFFDtitle", b.Alerts[0].Annotations["summary"])
				require.Equal(t, "Good", b.Alerts[1].Title)
			}},
		{name: "NUL in a label name and value", src: amSource,
			body: amBody("", `{"labels":{"alertname":"A\u0000","in\u0000st":"x"}}`),
			check: func(t *testing.T, b Batch) {
				require.Equal(t, map[string]string{"alertname": "A\uFFFD", "in\uFFFDst": "x"}, b.Alerts[0].Labels)
			}},
		{name: "invalid UTF-8 bytes and a lone surrogate", src: amSource,
			body: amBody("", "{\"labels\":{\"alertname\":\"A\xff\xfe\"},\"annotations\":{\"description\":\"\\ud800x\"}}"),
			check: func(t *testing.T, b Batch) {
				require.Equal(t, "A\uFFFD\uFFFD", b.Alerts[0].Labels["alertname"])
				require.Equal(t, "\uFFFDx", b.Alerts[0].Description)
			}},
		{name: "NUL and invalid UTF-8 in a generic payload", src: genericSource,
			body: "{\"events\":[{\"state\":\"open\",\"summary\":\"disk\\u0000full \xc3\",\"host\":{\"name\":\"db\xff\"}}]}",
			check: func(t *testing.T, b Batch) {
				require.Equal(t, "disk\uFFFDfull \uFFFD", b.Alerts[0].Title)
				require.Equal(t, "db\uFFFD", b.Alerts[0].Labels["host"])
			}},
		{name: "invalid UTF-8 in a probe", src: probeSource,
			body: "{\"check\":\"api\xff\",\"status\":\"down\",\"message\":\"x\\u0000y\"}",
			check: func(t *testing.T, b Batch) {
				require.Equal(t, "api\uFFFD", b.Alerts[0].Labels["check"])
				for _, v := range b.Alerts[0].Annotations {
					require.NotContains(t, v, "\x00")
				}
			}},
		{name: "2 MiB label value is cut to 1 KiB", src: amSource,
			body: amBody("", `{"labels":{"alertname":"Big","blob":"`+strings.Repeat("x", 2<<20)+`"}}`),
			check: func(t *testing.T, b Batch) {
				v := b.Alerts[0].Labels["blob"]
				require.Len(t, v, DefaultMaxLabelValueBytes)
				require.True(t, strings.HasSuffix(v, "…"))
			}},
		{name: "2 MiB annotation is cut to 16 KiB", src: amSource,
			body: amBody("", `{"labels":{"alertname":"Big"},"annotations":{"summary":"`+strings.Repeat("é", 1<<20)+`"}}`),
			check: func(t *testing.T, b Batch) {
				require.LessOrEqual(t, len(b.Alerts[0].Annotations["summary"]), DefaultMaxAnnotationBytes)
				require.LessOrEqual(t, len(b.Alerts[0].Title), DefaultMaxAnnotationBytes)
				require.True(t, strings.HasSuffix(b.Alerts[0].Title, "é…"), "cut on a character boundary")
			}},
		{name: "10,000 labels", src: amSource,
			body:    amBody("", `{"labels":{`+manyLabels(10000)+`}}`),
			wantErr: "bad payload: alerts[0].labels: 10000 labels, at most 128 allowed"},
		{name: "huge label name", src: amSource,
			body:    amBody("", `{"labels":{"alertname":"A","`+strings.Repeat("n", 4096)+`":"v"}}`),
			wantErr: "bad payload: alerts[0].labels: name \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnn…\" is 4096 bytes, at most 1024 allowed"},
		{name: "huge annotation name", src: amSource,
			body:    amBody("", `{"labels":{"alertname":"A"},"annotations":{"`+strings.Repeat("n", 2048)+`":"v"}}`),
			wantErr: "bad payload: alerts[0].annotations: name"},
		{name: "huge fingerprint is hashed", src: amSource,
			body: amBody("", `{"labels":{"alertname":"A"},"fingerprint":"`+strings.Repeat("f", 4096)+`"}`),
			check: func(t *testing.T, b Batch) {
				require.Len(t, b.Alerts[0].Fingerprint, 16)
			}},
		{name: "truncatedAlerts 2^63-1 is clamped", src: amSource,
			body: amBody(`"truncatedAlerts":9223372036854775807,`, `{"labels":{"alertname":"A"}}`),
			check: func(t *testing.T, b Batch) {
				require.Equal(t, MaxTruncated, b.Truncated)
			}},
		{name: "truncatedAlerts beyond int64", src: amSource,
			body:    amBody(`"truncatedAlerts":1e30,`, `{"labels":{"alertname":"A"}}`),
			wantErr: "bad payload: truncatedAlerts: got number 1e30, want integer"},
		{name: "negative truncatedAlerts", src: amSource,
			body:    amBody(`"truncatedAlerts":-1,`, `{"labels":{"alertname":"A"}}`),
			wantErr: "bad payload: truncatedAlerts: negative (-1)"},
		{name: "negative Grafana orgId is kept as text", src: amSource,
			body: `{"version":"1","status":"firing","orgId":-9223372036854775808,"alerts":[{"labels":{"alertname":"A"}}]}`,
			check: func(t *testing.T, b Batch) {
				require.Equal(t, "-9223372036854775808", b.Alerts[0].Annotations["grafana_org_id"])
			}},
		{name: "349,000 empty alerts are refused before decoding", src: amSource,
			body:    "[" + strings.TrimSuffix(strings.Repeat("{},", 349000), ",") + "]",
			wantErr: "bad payload: body: 349000 alerts, at most 10000 allowed"},
		{name: "a second alerts key cannot slip a long list past the count", src: amSource,
			body:    `{"alerts":[],"alerts":[` + strings.TrimSuffix(strings.Repeat("{},", 10001), ",") + `]}`,
			wantErr: "bad payload: alerts: 10001 alerts, at most 10000 allowed"},
		{name: "nor a key in another case", src: amSource,
			body:    `{"alerts":[],"ALERTS":[` + strings.TrimSuffix(strings.Repeat("{},", 10001), ",") + `]}`,
			wantErr: "bad payload: ALERTS: 10001 alerts, at most 10000 allowed"},
		{name: "349,000 Grafana evalMatches", src: config.Source{Name: "grafana", Type: TypeGrafana},
			body:    `{"ruleName":"r","state":"alerting","evalMatches":[` + strings.TrimSuffix(strings.Repeat("{},", 349000), ",") + `]}`,
			wantErr: "bad payload: evalMatches: 349000 alerts, at most 10000 allowed"},
		{name: "nesting deeper than 10,000", src: amSource,
			body:    `{"x":` + deep + `,"alerts":[]}`,
			wantErr: "exceeded max depth"},
		{name: "deep nesting in a probe", src: probeSource,
			body:    `{"check":"a","status":"down","x":` + deep + `}`,
			wantErr: "exceeded max depth"},
		{name: "deep nesting in a generic payload", src: genericSource,
			body:    `{"events":` + deep + `}`,
			wantErr: "exceeded max depth"},
		{name: "nesting within the limit in an unknown field", src: amSource,
			body: amBody(`"x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`,`, `{"labels":{"alertname":"A"}}`),
			check: func(t *testing.T, b Batch) {
				require.Len(t, b.Alerts, 1)
			}},
	}
}

func TestHostilePayloads(t *testing.T) {
	for _, tt := range hostilePayloads() {
		t.Run(tt.name, func(t *testing.T) {
			b, err := testDecoder(t, tt.src).Decode(nil, []byte(tt.body))
			if err == nil {
				err = Limits{}.Apply(&b)
			}
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrBadPayload)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, b)
		})
	}
}

// Long lists are refused before anything is decoded: the request costs
// about nothing, whichever key, case or copy of it carries the list.
func TestListsAreCountedBeforeDecoding(t *testing.T) {
	empties := strings.TrimSuffix(strings.Repeat("{},", 349000), ",")
	tests := []struct {
		name string
		src  config.Source
		body string
	}{
		{"API v2 array", amSource, "[" + empties + "]"},
		{"webhook alerts", amSource, `{"alerts":[` + empties + `]}`},
		{"second alerts key", amSource, `{"alerts":[],"alerts":[` + empties + `]}`},
		{"alerts key in another case", amSource, `{"alerts":[],"Alerts":[` + empties + `]}`},
		{"Grafana evalMatches", config.Source{Name: "g", Type: TypeGrafana}, `{"ruleName":"r","evalMatches":[` + empties + `]}`},
		{"probe array", probeSource, "[" + empties + "]"},
		{"Uptime Kuma tags", probeSource, `{"heartbeat":{"status":0},"monitor":{"name":"m","tags":[` + empties + `]}}`},
		{"Gatus condition results", probeSource, `{"endpoint_name":"e","resolved":false,"condition_results":[` + empties + `]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, body := testDecoder(t, tt.src), []byte(tt.body)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := d.Decode(nil, body)
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, ErrBadPayload)
			require.ErrorContains(t, err, "349000 alerts, at most 10000 allowed")
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<10), "bytes allocated decoding a 1 MB body")
		})
	}
}
