package adapters

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// fuzzMapping exercises every generic mapping field against the seeds.
var fuzzMapping = &config.Mapping{
	Alerts: "events", Title: "summary", Description: "details", Status: "state", Fingerprint: "id",
	Severity: "prio", Service: "app", StartsAt: "at", URL: "link", LabelsFrom: "host",
	Labels: map[string]string{"host": "host.name"}, Annotations: map[string]string{"dc": "host.dc"},
}

// fuzzDecoder seeds f with every testdata payload whose name starts with
// one of prefixes, plus extra seeds, and checks the decoder's invariants.
func fuzzDecoder(f *testing.F, src config.Source, prefixes []string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		for _, p := range prefixes {
			if strings.HasPrefix(filepath.Base(file), p) {
				body, err := os.ReadFile(file)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(body)
			}
		}
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
	// The hostile payloads of this source type, the small ones: the
	// fuzzer mutates seeds of megabytes too slowly to be of use.
	for _, h := range hostilePayloads() {
		if h.src.Type == src.Type && len(h.body) <= 64<<10 {
			f.Add([]byte(h.body))
		}
	}
	d := testDecoder(f, src)
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := d.Decode(nil, body)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		if len(b.Alerts) > MaxAlerts {
			t.Fatalf("%d alerts", len(b.Alerts))
		}
		for i, a := range b.Alerts {
			if a.Fingerprint == "" {
				t.Fatalf("alerts[%d]: empty fingerprint", i)
			}
			if !a.Status.Valid() {
				t.Fatalf("alerts[%d]: invalid status %q", i, a.Status)
			}
			if a.Source != src.Name || a.SourceType != src.Type {
				t.Fatalf("alerts[%d]: source %q/%q", i, a.Source, a.SourceType)
			}
			if a.Labels == nil || a.Annotations == nil {
				t.Fatalf("alerts[%d]: nil labels or annotations", i)
			}
			if s, ok := dirtyText(&a); ok {
				t.Fatalf("alerts[%d]: text not normalized: %q", i, s)
			}
		}
		if err := (Limits{}).Apply(&b); err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("limits: error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		if b.Truncated < 0 || b.Truncated > MaxTruncated {
			t.Fatalf("truncated %d", b.Truncated)
		}
		for i, a := range b.Alerts {
			for k, v := range a.Labels {
				if len(v) > DefaultMaxLabelValueBytes || !utf8.ValidString(v) {
					t.Fatalf("alerts[%d].labels.%s: %d bytes after limits", i, k, len(v))
				}
			}
		}
	})
}

// dirtyText returns the first string of a that is not valid UTF-8 or
// holds a NUL.
func dirtyText(a *alert.Alert) (string, bool) {
	all := []string{a.Fingerprint, a.Title, a.Description, a.Service, a.GeneratorURL, a.SeverityHint}
	for _, m := range []map[string]string{a.Labels, a.Annotations} {
		for k, v := range m {
			all = append(all, k, v)
		}
	}
	for _, s := range all {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return s, true
		}
	}
	return "", false
}

func FuzzAlertmanager(f *testing.F) {
	fuzzDecoder(f, config.Source{Name: "am", Type: TypeAlertmanager, Labels: map[string]string{"env": "prod"}},
		[]string{"alertmanager-", "grafana-"},
		`[{"labels":{"a":"b"},"endsAt":"2020-01-01T00:00:00Z"}]`, `{"alerts":[{"labels":{"a":"b"},"status":"firing"}]}`)
}

func FuzzGrafana(f *testing.F) {
	fuzzDecoder(f, config.Source{Name: "grafana", Type: TypeGrafana}, []string{"grafana-", "alertmanager-"},
		`{"ruleName":"r","ruleId":3,"state":"no_data","evalMatches":[{"value":null,"metric":"m"}]}`)
}

func FuzzHealthcheck(f *testing.F) {
	fuzzDecoder(f, config.Source{Name: "probes", Type: TypeHealthcheck},
		[]string{"probe-", "uptime-kuma-", "gatus-", "healthchecks-"},
		`{"check":"a","status":"down"}`, `{"text":"RESOLVED:  - api - ok - "}`)
}

func FuzzGeneric(f *testing.F) {
	fuzzDecoder(f, config.Source{Name: "generic", Type: TypeGeneric, Mapping: fuzzMapping}, []string{"generic-"},
		`{"events":[{"summary":"s","state":"ok","at":1e300}]}`)
}
