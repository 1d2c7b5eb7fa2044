package adapters

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
)

func TestDecodeErrors(t *testing.T) {
	generic := &config.Mapping{Alerts: "items", Title: "name", Status: "state", Labels: map[string]string{"host": "host"},
		LabelsFrom: "tags", StartsAt: "at", Fingerprint: "id"}
	tests := []struct {
		name    string
		typ     string
		body    string
		wantErr string
	}{
		// Alertmanager.
		{"am empty body", TypeAlertmanager, " \n", "bad payload: empty body"},
		{"am not json", TypeAlertmanager, `{"alerts": [`, "not JSON"},
		{"am trailing garbage", TypeAlertmanager, `{"alerts": []} x`, "not JSON"},
		{"am scalar body", TypeAlertmanager, `"hello"`, "body: got string, want object"},
		{"am no alerts", TypeAlertmanager, `{"version":"4","status":"firing"}`, "alerts: missing"},
		{"am null alerts", TypeAlertmanager, `{"version":"4","alerts":null}`, "alerts: missing"},
		{"am alerts not array", TypeAlertmanager, `{"version":"4","alerts":{}}`, "alerts: got object, want array"},
		{"am alert not object", TypeAlertmanager, `{"alerts":[{"labels":{"a":"b"}},"x"]}`, "alerts[1]: got string, want object"},
		{"am labels not object", TypeAlertmanager, `{"alerts":[{"labels":{"a":"b"}},{"labels":"x"}]}`,
			"alerts[1].labels: got string, want object"},
		{"am label value not string", TypeAlertmanager, `{"alerts":[{"labels":{"a":"b","n":1}}]}`,
			"alerts[0].labels.n: got number, want string"},
		{"am empty labels", TypeAlertmanager, `{"status":"firing","alerts":[{"labels":{"a":"b"}},{"labels":{}}]}`,
			"alerts[1].labels: no labels"},
		{"am null labels", TypeAlertmanager, `{"alerts":[{"labels":null,"status":"firing"}]}`, "alerts[0].labels: no labels"},
		{"am invalid alert status", TypeAlertmanager, `{"alerts":[{"labels":{"a":"b"},"status":"pending"}]}`,
			`alerts[0].status: invalid status "pending"`},
		{"am missing status everywhere", TypeAlertmanager, `{"alerts":[{"labels":{"a":"b"}}]}`,
			`alerts[0].status: invalid status ""`},
		{"am invalid group status", TypeAlertmanager, `{"status":"bad","alerts":[]}`, `status: invalid status "bad"`},
		{"am bad startsAt", TypeAlertmanager, `{"alerts":[{"labels":{"a":"b"},"status":"firing","startsAt":"yesterday"}]}`,
			`alerts[0].startsAt: invalid time "yesterday"`},
		{"am startsAt number", TypeAlertmanager, `{"alerts":[{"labels":{"a":"b"},"startsAt":5}]}`,
			"alerts[0].startsAt: got number, want string"},
		{"am bad version", TypeAlertmanager, `{"version":"5","alerts":[]}`, `version: unsupported "5"`},
		{"am version number", TypeAlertmanager, `{"version":4,"alerts":[]}`, "version: got number, want string"},
		{"am negative truncated", TypeAlertmanager, `{"truncatedAlerts":-1,"alerts":[]}`, "truncatedAlerts: negative"},
		{"am truncated string", TypeAlertmanager, `{"truncatedAlerts":"3","alerts":[]}`,
			"truncatedAlerts: got string, want integer"},
		{"am common annotations array", TypeAlertmanager, `{"commonAnnotations":[],"alerts":[]}`,
			"commonAnnotations: got array, want object"},
		{"am v2 element not object", TypeAlertmanager, `[{"labels":{"a":"b"}}, 3]`, "[1]: got number, want object"},
		{"am v2 empty labels", TypeAlertmanager, `[{"labels":{}}]`, "[0].labels: no labels"},
		{"am v2 bad endsAt", TypeAlertmanager, `[{"labels":{"a":"b"},"endsAt":"soon"}]`, `[0].endsAt: invalid time "soon"`},

		// Grafana.
		{"grafana not json", TypeGrafana, `<html>`, "not JSON"},
		{"grafana bad version", TypeGrafana, `{"version":"2","alerts":[]}`, `version: unsupported "2"`},
		{"grafana values not numbers", TypeGrafana, `{"version":"1","alerts":[{"labels":{"a":"b"},"status":"firing","values":{"B":"x"}}]}`,
			"alerts[0].values.B: got string, want number"},
		{"grafana legacy bad state", TypeGrafana, `{"ruleName":"r","state":"exploded"}`, `state: invalid "exploded"`},
		{"grafana legacy eval matches", TypeGrafana, `{"ruleName":"r","state":"ok","evalMatches":{}}`,
			"evalMatches: got object, want array"},
		{"grafana no alerts", TypeGrafana, `{"version":"1"}`, "alerts: missing"},

		// Health checks.
		{"probe empty", TypeHealthcheck, ``, "empty body"},
		{"probe not json", TypeHealthcheck, `check=api`, "not JSON"},
		{"probe number body", TypeHealthcheck, `42`, "body: not an object"},
		{"probe unknown shape", TypeHealthcheck, `{"foo":"bar"}`, "unknown probe payload (want a native probe"},
		{"probe no status", TypeHealthcheck, `{"check":"api"}`, `status: invalid "" (want down or up)`},
		{"probe bad status", TypeHealthcheck, `{"check":"api","status":"degraded"}`, `status: invalid "degraded"`},
		{"probe empty check", TypeHealthcheck, `{"check":"","status":"down"}`, "check: missing"},
		{"probe check number", TypeHealthcheck, `{"check":5,"status":"down"}`, "check: got number, want string"},
		{"probe bad time", TypeHealthcheck, `{"check":"a","status":"down","time":"noon"}`, `time: invalid time "noon"`},
		{"probe array bad element", TypeHealthcheck, `[{"check":"a","status":"down"},{"check":"b","status":"x"}]`,
			`[1].status: invalid "x"`},
		{"probe array labels", TypeHealthcheck, `[{"check":"a","status":"down","labels":{"x":true}}]`,
			"[0].labels.x: got bool, want string"},
		{"kuma heartbeat only", TypeHealthcheck, `{"heartbeat":{"status":0},"monitor":null}`, "monitor: missing"},
		{"kuma monitor only", TypeHealthcheck, `{"heartbeat":null,"monitor":{"id":1}}`, "heartbeat: missing"},
		{"kuma no status", TypeHealthcheck, `{"heartbeat":{},"monitor":{"id":1}}`, "heartbeat.status: missing"},
		{"kuma bad status", TypeHealthcheck, `{"heartbeat":{"status":9},"monitor":{"id":1}}`, "heartbeat.status: invalid 9"},
		{"kuma status string", TypeHealthcheck, `{"heartbeat":{"status":"0"},"monitor":{"id":1}}`,
			"heartbeat.status: got string, want integer"},
		{"kuma bad time", TypeHealthcheck, `{"heartbeat":{"status":0,"time":"31/07/2023"},"monitor":{"id":1}}`,
			"heartbeat.time: invalid time"},
		{"kuma tags not array", TypeHealthcheck, `{"heartbeat":{"status":0},"monitor":{"id":1,"tags":{}}}`,
			"monitor.tags: got object, want array"},
		{"gatus unsubstituted template", TypeHealthcheck,
			`{"text":"[ALERT_TRIGGERED_OR_RESOLVED]: [ENDPOINT_GROUP] - [ENDPOINT_NAME] - [ALERT_DESCRIPTION] - [RESULT_ERRORS]"}`,
			"text: unsubstituted Gatus placeholder"},
		{"gatus text without name", TypeHealthcheck, `{"text":"TRIGGERED: just words"}`, "text: no endpoint name"},
		{"gatus text without state", TypeHealthcheck, `{"text":"hello"}`, "text: want"},
		{"gatus bad state", TypeHealthcheck, `{"state":"partial_outage","endpoint":"core/api"}`, `state: invalid state "partial_outage"`},
		{"gatus no endpoint", TypeHealthcheck, `{"state":"TRIGGERED"}`, "endpoint: missing"},
		{"gatus n8n no resolved", TypeHealthcheck, `{"endpoint_name":"api"}`, "resolved: missing"},
		{"gatus n8n no name", TypeHealthcheck, `{"resolved":true}`, "endpoint_name: missing"},
		{"gatus n8n resolved string", TypeHealthcheck, `{"endpoint_name":"api","resolved":"yes"}`,
			"resolved: got string, want boolean"},
		{"healthchecks bad status", TypeHealthcheck, `{"status":"grace","check":{"name":"a"}}`, `status: invalid "grace"`},
		{"healthchecks unknown check status", TypeHealthcheck, `{"check":{"name":"a","status":"weird"}}`,
			`check.status: invalid "weird"`},
		{"healthchecks anonymous", TypeHealthcheck, `{"status":"down","check":{}}`, "check: no name"},
		{"healthchecks bad now", TypeHealthcheck, `{"status":"down","now":"$NOW","check":{"name":"a"}}`, `now: invalid time "$NOW"`},
		{"healthchecks tags array", TypeHealthcheck, `{"status":"down","check":{"name":"a","tags":["x"]}}`,
			"check.tags: got array, want string"},

		// Generic.
		{"generic not json", TypeGeneric, `{"items": [}`, "not JSON"},
		{"generic no items", TypeGeneric, `{"other": []}`, `alerts (path "items"): missing or not an array`},
		{"generic items object", TypeGeneric, `{"items": {}}`, `alerts (path "items"): missing or not an array`},
		{"generic missing title", TypeGeneric, `{"items": [{"name":"a","state":"open"},{"state":"open"}]}`,
			`alerts[1].title (path "name"): missing or empty`},
		{"generic title object", TypeGeneric, `{"items": [{"name":{"x":1},"state":"open"}]}`,
			`alerts[0].title (path "name"): got object, want a string`},
		{"generic missing status", TypeGeneric, `{"items": [{"name":"a"}]}`,
			`alerts[0].status (path "state"): "" is neither a firing nor a resolved value`},
		{"generic unknown status", TypeGeneric, `{"items": [{"name":"a","state":"maybe"}]}`,
			`alerts[0].status (path "state"): "maybe" is neither`},
		{"generic label array", TypeGeneric, `{"items": [{"name":"a","state":"ok","host":["h"]}]}`,
			`alerts[0].labels.host (path "host"): got array, want a string`},
		{"generic labels_from string", TypeGeneric, `{"items": [{"name":"a","state":"ok","tags":"x"}]}`,
			`alerts[0].labels_from (path "tags"): got string, want object`},
		{"generic bad time", TypeGeneric, `{"items": [{"name":"a","state":"ok","at":"later"}]}`,
			`alerts[0].starts_at (path "at"): invalid time "later"`},
		{"generic negative time", TypeGeneric, `{"items": [{"name":"a","state":"ok","at":-5}]}`,
			`alerts[0].starts_at (path "at"): invalid Unix time -5`},
		{"generic time bool", TypeGeneric, `{"items": [{"name":"a","state":"ok","at":true}]}`,
			`alerts[0].starts_at (path "at"): got boolean`},
		{"generic fingerprint object", TypeGeneric, `{"items": [{"name":"a","state":"ok","id":{}}]}`,
			`alerts[0].fingerprint (path "id"): got object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := config.Source{Name: "s", Type: tt.typ}
			if tt.typ == TypeGeneric {
				src.Mapping = generic
			}
			b, err := testDecoder(t, src).Decode(nil, []byte(tt.body))
			require.ErrorIs(t, err, ErrBadPayload)
			require.ErrorContains(t, err, tt.wantErr)
			require.Empty(t, b.Alerts)
		})
	}
}

// Some bodies are valid and carry nothing to alert on.
func TestDecodeNoAlerts(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		body string
	}{
		{"am empty alerts", TypeAlertmanager, `{"version":"4","status":"resolved","alerts":[]}`},
		{"am v2 empty array", TypeAlertmanager, `[]`},
		{"kuma test button", TypeHealthcheck, `{"heartbeat":null,"monitor":null,"msg":"Testing"}`},
		{"kuma pending", TypeHealthcheck, `{"heartbeat":{"status":2},"monitor":{"id":1}}`},
		{"kuma maintenance", TypeHealthcheck, `{"heartbeat":{"status":3},"monitor":{"id":1}}`},
		{"healthchecks paused", TypeHealthcheck, `{"check":{"name":"a","status":"paused"}}`},
		{"healthchecks new", TypeHealthcheck, `{"check":{"name":"a","status":"new"}}`},
		{"grafana legacy paused", TypeGrafana, `{"ruleName":"r","ruleId":1,"state":"paused"}`},
		{"grafana legacy pending", TypeGrafana, `{"ruleName":"r","ruleId":1,"state":"pending"}`},
		{"native empty array", TypeHealthcheck, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := testDecoder(t, config.Source{Name: "s", Type: tt.typ}).Decode(nil, []byte(tt.body))
			require.NoError(t, err)
			require.Empty(t, b.Alerts)
		})
	}
}
