package adapters

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json")

// testNow is the clock of API v2 decoding in tests.
var testNow = time.Date(2026, 8, 24, 12, 0, 0, 0, time.UTC)

// typeFor maps a testdata file name prefix to the source type decoding it.
var typeFor = []struct{ prefix, typ string }{
	{"alertmanager-", TypeAlertmanager},
	{"grafana-", TypeGrafana},
	{"uptime-kuma-", TypeHealthcheck},
	{"gatus-", TypeHealthcheck},
	{"healthchecks-", TypeHealthcheck},
	{"probe-", TypeHealthcheck},
	{"generic-", TypeGeneric},
}

// testSource returns the source a testdata file is decoded with; generic
// files take their mapping from the sibling <name>.mapping.yaml.
func testSource(t testing.TB, file string) config.Source {
	t.Helper()
	base := strings.TrimSuffix(filepath.Base(file), ".json")
	src := config.Source{Name: "test-source", Labels: map[string]string{"env": "test", "team": "source-team"}}
	for _, p := range typeFor {
		if strings.HasPrefix(base, p.prefix) {
			src.Type = p.typ
		}
	}
	require.NotEmpty(t, src.Type, "no source type for %s", file)
	if src.Type == TypeGeneric {
		raw, err := os.ReadFile(filepath.Join("testdata", base+".mapping.yaml"))
		require.NoError(t, err)
		var m config.Mapping
		require.NoError(t, yaml.Unmarshal(raw, &m))
		src.Mapping = &m
	}
	return src
}

// testDecoder builds the decoder for src with the test clock.
func testDecoder(t testing.TB, src config.Source) Decoder {
	t.Helper()
	d, err := New(src)
	require.NoError(t, err)
	if am, ok := d.(*Alertmanager); ok {
		am.now = func() time.Time { return testNow }
	}
	return d
}

// inputs lists the payload files of testdata.
func inputs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// render is the golden form of a decode: the Batch, or the error.
func render(t testing.TB, b Batch, err error) []byte {
	t.Helper()
	var v any = b
	if err != nil {
		v = map[string]string{"error": err.Error()}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(v))
	return out.Bytes()
}

func TestGolden(t *testing.T) {
	for _, file := range inputs(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			require.NoError(t, err)
			b, derr := testDecoder(t, testSource(t, file)).Decode(http.Header{}, body)
			if derr != nil {
				require.ErrorIs(t, derr, ErrBadPayload)
			}
			got := render(t, b, derr)
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./adapters -update")
			require.Equal(t, string(want), string(got))
			checkBatch(t, b, derr)
		})
	}
}

// checkBatch asserts what must hold for every successful decode.
func checkBatch(t testing.TB, b Batch, err error) {
	t.Helper()
	if err != nil {
		return
	}
	for i, a := range b.Alerts {
		require.NotEmpty(t, a.Fingerprint, "alerts[%d].fingerprint", i)
		require.True(t, a.Status.Valid(), "alerts[%d].status %q", i, a.Status)
		require.NotEmpty(t, a.Source, "alerts[%d].source", i)
		require.NotEmpty(t, a.SourceType, "alerts[%d].source_type", i)
		require.NotNil(t, a.Labels, "alerts[%d].labels", i)
		require.NotNil(t, a.Annotations, "alerts[%d].annotations", i)
	}
}

// Decoders must not keep pointers into body: fasthttp reuses it.
func TestDecodeDoesNotRetainBody(t *testing.T) {
	for _, file := range inputs(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body, err := os.ReadFile(file)
			require.NoError(t, err)
			d := testDecoder(t, testSource(t, file))
			b, derr := d.Decode(nil, body)
			before := render(t, b, derr)
			for i := range body {
				body[i] = 'X'
			}
			require.Equal(t, string(before), string(render(t, b, derr)))
		})
	}
}

func TestGoldenFilesHaveInputs(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	require.NoError(t, err)
	for _, g := range goldens {
		_, err := os.Stat(filepath.Join("testdata", filepath.Base(g)))
		require.NoError(t, err, "stale golden file %s", g)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		src     config.Source
		wantErr string
	}{
		{"alertmanager", config.Source{Name: "am", Type: "alertmanager"}, ""},
		{"grafana", config.Source{Name: "g", Type: "grafana"}, ""},
		{"healthcheck", config.Source{Name: "h", Type: "healthcheck"}, ""},
		{"generic", config.Source{Name: "x", Type: "generic", Mapping: &config.Mapping{Title: "t"}}, ""},
		{"unknown type", config.Source{Name: "x", Type: "nagios"}, `source "x": unknown type "nagios"`},
		{"generic without mapping", config.Source{Name: "x", Type: "generic"}, "needs a mapping"},
		{"generic without title", config.Source{Name: "x", Type: "generic", Mapping: &config.Mapping{Status: "s"}},
			"mapping.title: required"},
		{"generic padded path", config.Source{Name: "x", Type: "generic", Mapping: &config.Mapping{Title: "t", Status: " s"}},
			`mapping.status: path " s" has surrounding spaces`},
		{"generic empty label path", config.Source{Name: "x", Type: "generic",
			Mapping: &config.Mapping{Title: "t", Labels: map[string]string{"team": ""}}}, "mapping.labels.team: empty path"},
		{"generic overlapping values", config.Source{Name: "x", Type: "generic",
			Mapping: &config.Mapping{Title: "t", Status: "s", FiringValues: []string{"ok"}}},
			`"ok" is both a firing and a resolved value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.src)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, d)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, d)
		})
	}
}

func TestSourceLabelsAreMergedUnderAlertLabels(t *testing.T) {
	d := testDecoder(t, config.Source{Name: "am", Type: TypeAlertmanager,
		Labels: map[string]string{"team": "platform", "env": "prod"}})
	b, err := d.Decode(nil, []byte(`{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"X","team":"db"}}]}`))
	require.NoError(t, err)
	require.Len(t, b.Alerts, 1)
	a := b.Alerts[0]
	require.Equal(t, map[string]string{"alertname": "X", "team": "db", "env": "prod"}, a.Labels)
	require.Equal(t, alert.FingerprintLabels(map[string]string{"alertname": "X", "team": "db"}), a.Fingerprint,
		"the fingerprint hashes the alert's own labels, as Alertmanager's does")
	require.Equal(t, alert.StatusFiring, a.Status, "missing alert status falls back to the group status")
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"60", 60, true},
		{"60%", 60, true},
		{" 12.5 % ", 12.5, true},
		{"0", 0, true},
		{"100", 100, true},
		{"101", 0, false},
		{"-1", 0, false},
		{"high", 0, false},
		{"NaN", 0, false},
		{"", 0, false},
		{"%", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parsePercent(tt.in)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestUnquoteMeta(t *testing.T) {
	tests := []struct{ in, want string }{
		{`web\.hook`, "web.hook"},
		{`plain`, "plain"},
		{`a\+b\(c\)\\d`, `a+b(c)\d`},
		{`trailing\`, `trailing\`},
		{`keep\n`, `keep\n`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, unquoteMeta(tt.in))
		})
	}
}

func TestHealthcheckMultipartFormData(t *testing.T) {
	down, err := os.ReadFile(filepath.Join("testdata", "uptime-kuma-down.json"))
	require.NoError(t, err)
	var body bytes.Buffer
	body.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nignored\r\n")
	body.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n")
	body.Write(down)
	body.WriteString("\r\n--XYZ--\r\n")
	h := http.Header{"Content-Type": {"multipart/form-data; boundary=XYZ"}}

	d := testDecoder(t, config.Source{Name: "kuma", Type: TypeHealthcheck})
	got, err := d.Decode(h, body.Bytes())
	require.NoError(t, err)
	want, err := d.Decode(nil, down)
	require.NoError(t, err)
	require.Equal(t, want, got)

	_, err = d.Decode(h, []byte("--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XYZ--\r\n"))
	require.ErrorIs(t, err, ErrBadPayload)
	require.ErrorContains(t, err, `no "data" field`)
}

func TestProbeFingerprintIsStableAcrossDownAndUp(t *testing.T) {
	d := testDecoder(t, config.Source{Name: "probes", Type: TypeHealthcheck})
	tests := []struct{ name, down, up string }{
		{"native", `{"check":"api","status":"down"}`, `{"check":"api","status":"up","message":"ok"}`},
		{"gatus", `{"state":"TRIGGERED","endpoint":"core/api"}`, `{"state":"RESOLVED","endpoint":"core/api"}`},
		{"gatus n8n", `{"endpoint_name":"api","endpoint_group":"core","resolved":false}`,
			`{"endpoint_name":"api","endpoint_group":"core","resolved":true}`},
		{"healthchecks.io", `{"status":"down","check":{"name":"a","uuid":"u1"}}`, `{"status":"up","check":{"name":"a","uuid":"u1"}}`},
		{"uptime kuma", `{"heartbeat":{"status":0},"monitor":{"id":3,"name":"m"}}`,
			`{"heartbeat":{"status":1},"monitor":{"id":3,"name":"m"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			down, err := d.Decode(nil, []byte(tt.down))
			require.NoError(t, err)
			up, err := d.Decode(nil, []byte(tt.up))
			require.NoError(t, err)
			require.Len(t, down.Alerts, 1)
			require.Len(t, up.Alerts, 1)
			require.Equal(t, alert.StatusFiring, down.Alerts[0].Status)
			require.Equal(t, alert.StatusResolved, up.Alerts[0].Status)
			require.Equal(t, down.Alerts[0].Fingerprint, up.Alerts[0].Fingerprint)
			require.Equal(t, "true", down.Alerts[0].Labels["probe"])
			require.NotEmpty(t, down.Alerts[0].Labels["check"])
		})
	}
}

func TestMaxAlerts(t *testing.T) {
	tests := []struct {
		name, typ string
		mapping   *config.Mapping
		item      string
		wrap      func(items string) string
		wantErr   string
	}{
		{"alertmanager", TypeAlertmanager, nil, `{"labels":{"a":"b"}}`,
			func(s string) string { return `{"version":"4","status":"firing","alerts":[` + s + `]}` }, "alerts: 10001 alerts, at most 10000"},
		{"alertmanager api v2", TypeAlertmanager, nil, `{"labels":{"a":"b"}}`,
			func(s string) string { return `[` + s + `]` }, "body: 10001 alerts"},
		{"grafana", TypeGrafana, nil, `{"labels":{"a":"b"}}`,
			func(s string) string { return `{"version":"1","status":"firing","alerts":[` + s + `]}` }, "alerts: 10001 alerts"},
		{"native probes", TypeHealthcheck, nil, `{"check":"c","status":"down"}`,
			func(s string) string { return `[` + s + `]` }, "body: 10001 alerts"},
		{"generic", TypeGeneric, &config.Mapping{Alerts: "a", Title: "t"}, `{"t":"x"}`,
			func(s string) string { return `{"a":[` + s + `]}` }, "alerts: 10001 alerts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDecoder(t, config.Source{Name: "s", Type: tt.typ, Mapping: tt.mapping})
			items := strings.Repeat(tt.item+",", MaxAlerts-1) + tt.item
			b, err := d.Decode(nil, []byte(tt.wrap(items)))
			require.NoError(t, err)
			require.Len(t, b.Alerts, MaxAlerts)
			_, err = d.Decode(nil, []byte(tt.wrap(items+","+tt.item)))
			require.ErrorIs(t, err, ErrBadPayload)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
