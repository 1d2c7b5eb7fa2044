package test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/store"
)

// hostileCase is one hostile payload sent to a running gateway: it must
// be answered 2xx and stored as documented (check), or 4xx with a reason
// naming the field (wantErr). Never a 5xx, never a panic.
type hostileCase struct {
	name    string
	source  string // alertmanager (default) or probes
	body    string
	want    int
	wantErr string
	check   func(t *testing.T, stored []store.StoredAlert)
}

func amWebhook(extra, alerts string) string {
	return `{"version":"4","status":"firing","receiver":"gw",` + extra + `"alerts":[` + alerts + `]}`
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func byTitle(stored []store.StoredAlert) map[string]store.StoredAlert {
	out := map[string]store.StoredAlert{}
	for _, a := range stored {
		out[a.Labels["alertname"]] = a
	}
	return out
}

func hostileCases() []hostileCase {
	labels := make([]string, 10000)
	for i := range labels {
		labels[i] = fmt.Sprintf(`"l%d":"v"`, i)
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	longName, longService := randomHex(2048), randomHex(1024)
	return []hostileCase{
		{name: "NUL in an annotation", want: http.StatusOK,
			body: amWebhook("", `{"labels":{"severity":"critical","alertname":"NulBad","severity":"critical"},"annotations":{"summary":"bad\u0000title"}},`+
				`{"labels":{"severity":"critical","alertname":"NulGood","severity":"critical"},"annotations":{"summary":"good"}}`),
			check: func(t *testing.T, stored []store.StoredAlert) {
				got := byTitle(stored)
				require.Equal(t, "bad\uFFFDtitle", got["NulBad"].Title)
				require.Equal(t, "bad\uFFFDtitle", got["NulBad"].Annotations["summary"])
				require.Equal(t, "good", got["NulGood"].Title, "the good alert is stored too")
			}},
		{name: "NUL in a label name and value", want: http.StatusOK,
			body: amWebhook("", `{"labels":{"severity":"critical","alertname":"NulLabel","ho\u0000st":"db\u0000"}}`),
			check: func(t *testing.T, stored []store.StoredAlert) {
				require.Equal(t, "db\uFFFD", stored[0].Labels["ho\uFFFDst"])
			}},
		{name: "invalid UTF-8 in a title", want: http.StatusOK,
			body: amWebhook("", "{\"labels\":{\"severity\":\"critical\",\"alertname\":\"BadUTF8\"},\"annotations\":{\"summary\":\"caf\xe9 \xff\"}}"),
			check: func(t *testing.T, stored []store.StoredAlert) {
				require.Equal(t, "caf\uFFFD \uFFFD", stored[0].Title)
			}},
		{name: "2 MiB label value", want: http.StatusOK,
			body: amWebhook("", `{"labels":{"severity":"critical","alertname":"BigValue","blob":"`+strings.Repeat("x", 2<<20)+`"}}`),
			check: func(t *testing.T, stored []store.StoredAlert) {
				v := stored[0].Labels["blob"]
				require.Len(t, v, 1024)
				require.True(t, strings.HasSuffix(v, "…"))
			}},
		{name: "2 MiB annotation", want: http.StatusOK,
			body: amWebhook("", `{"labels":{"severity":"critical","alertname":"BigAnnotation"},"annotations":{"description":"`+strings.Repeat("ü", 1<<20)+`"}}`),
			check: func(t *testing.T, stored []store.StoredAlert) {
				d := stored[0].Annotations["description"]
				require.LessOrEqual(t, len(d), 16<<10)
				require.True(t, utf8.ValidString(d) && strings.HasSuffix(d, "ü…"))
			}},
		{name: "random group key near the index row limit", want: http.StatusOK,
			body: amWebhook("", `{"labels":{"severity":"critical","alertname":"`+longName+`","service":"`+longService+`"}}`),
			check: func(t *testing.T, stored []store.StoredAlert) {
				require.Len(t, stored[0].Labels["alertname"], 1024)
			}},
		{name: "huge fingerprint", want: http.StatusOK,
			body: amWebhook("", `{"labels":{"severity":"critical","alertname":"BigFingerprint"},"fingerprint":"`+randomHex(8192)+`"}`),
			check: func(t *testing.T, stored []store.StoredAlert) {
				require.Len(t, stored[0].Fingerprint, 16)
			}},
		{name: "truncatedAlerts 2^63-1", want: http.StatusOK,
			body: amWebhook(`"truncatedAlerts":9223372036854775807,`, `{"labels":{"severity":"critical","alertname":"Truncated"}}`),
			check: func(t *testing.T, stored []store.StoredAlert) {
				require.Len(t, stored, 1)
			}},
		{name: "10,000 labels", want: http.StatusBadRequest,
			body:    amWebhook("", `{"labels":{`+strings.Join(labels, ",")+`}}`),
			wantErr: "bad payload: alerts[0].labels: 10000 labels, at most 128 allowed"},
		{name: "huge label name", want: http.StatusBadRequest,
			body:    amWebhook("", `{"labels":{"severity":"critical","alertname":"A","`+strings.Repeat("n", 2048)+`":"v"}}`),
			wantErr: "bad payload: alerts[0].labels: name"},
		{name: "negative truncatedAlerts", want: http.StatusBadRequest,
			body:    amWebhook(`"truncatedAlerts":-5,`, `{"labels":{"severity":"critical","alertname":"A"}}`),
			wantErr: "bad payload: truncatedAlerts: negative (-5)"},
		{name: "deeply nested JSON", want: http.StatusBadRequest,
			body:    `{"x":` + deep + `,"alerts":[]}`,
			wantErr: "exceeded max depth"},
		{name: "349,000 empty alerts", want: http.StatusBadRequest,
			body:    "[" + strings.TrimSuffix(strings.Repeat("{},", 349000), ",") + "]",
			wantErr: "bad payload: body: 349000 alerts, at most 10000 allowed"},
		{name: "NUL and invalid UTF-8 in a probe", source: "probes", want: http.StatusOK,
			body: "{\"check\":\"api\\u0000\xff\",\"status\":\"down\",\"severity\":\"critical\"}",
			check: func(t *testing.T, stored []store.StoredAlert) {
				require.Equal(t, "api\uFFFD\uFFFD", stored[0].Labels["check"])
			}},
	}
}

// Every hostile payload, on both engines: 2xx and stored as documented,
// or 4xx with the reason.
func TestHostilePayloadsOnBothEngines(t *testing.T) {
	engines := []struct {
		name string
		cfg  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return issueConfig }},
		{"postgres", func(t *testing.T) string {
			return onPostgres(t, issueConfig, postgresSchemaDSN(t, "hostile"))
		}},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			cfg := strings.Replace(e.cfg(t), `server: { listen: "127.0.0.1:8080" }`,
				`server: { listen: "127.0.0.1:8080", max_body_bytes: 4194304 }`, 1)
			g := startGateway(t, cfg, newSink(t))
			for _, tt := range hostileCases() {
				t.Run(tt.name, func(t *testing.T) {
					src := tt.source
					if src == "" {
						src = "alertmanager"
					}
					req, err := http.NewRequest(http.MethodPost, g.url+"/api/v1/alerts/"+src, strings.NewReader(tt.body))
					require.NoError(t, err)
					req.Header.Set("Authorization", "Bearer s3cret")
					resp, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					require.NoError(t, err)
					require.Equal(t, tt.want, resp.StatusCode, "%s", body)
					if tt.wantErr != "" {
						var e struct{ Error string }
						require.NoError(t, jsonDecode(strings.NewReader(string(body)), &e))
						require.Contains(t, e.Error, tt.wantErr)
						return
					}
					var ok struct {
						Incidents  []string
						Suppressed int
					}
					require.NoError(t, jsonDecode(strings.NewReader(string(body)), &ok))
					require.True(t, len(ok.Incidents) > 0 || ok.Suppressed > 0, "%s", body)
					var stored []store.StoredAlert
					if ok.Suppressed > 0 {
						var sup struct{ Alerts []store.StoredAlert }
						require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/alerts?state=suppressed", &sup))
						stored = append(stored, sup.Alerts...)
					}
					for _, id := range ok.Incidents {
						var d store.IncidentDetail
						require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/incidents/"+id, &d))
						stored = append(stored, d.Alerts...)
					}
					tt.check(t, stored)
				})
			}
			metrics := getText(t, g.url+"/metrics")
			require.Contains(t, metrics, `alertgate_alerts_truncated_total{source="alertmanager"} 1e+06`)
			t.Run("API writes", func(t *testing.T) { hostileAPIWrites(t, g.url) })
		})
	}
}

// hostileAPIWrites sends a NUL ("\u0000") in each text field of the API's
// writes: a 400 naming the field, on both engines (PostgreSQL answered
// 500, SQLite stored the NUL), and the incident is still there to act on.
func hostileAPIWrites(t *testing.T, url string) {
	var list struct {
		Incidents []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"incidents"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/v1/incidents?status=open", &list))
	require.NotEmpty(t, list.Incidents)
	inc := url + "/api/v1/incidents/" + list.Incidents[0].ID
	for _, tt := range []struct{ path, body, field string }{
		{inc + "/ack", `{"actor":"al\u0000ice"}`, "actor"},
		{inc + "/ack", `{"note":"on\u0000it"}`, "note"},
		{inc + "/resolve", `{"note":"x\u0000"}`, "note"},
		{inc + "/severity", `{"severity":"P2","note":"x\u0000"}`, "note"},
		{inc + "/updates", `{"text":"rolled\u0000back"}`, "text"},
		{url + "/api/v1/silences", `{"matchers":["service=\"a\u0000b\""],"duration":"1h","created_by":"alice"}`, "matchers[0]"},
		{url + "/api/v1/silences", `{"matchers":["service=\"a\""],"duration":"1h","created_by":"alice","comment":"\u0000"}`, "comment"},
		{url + "/api/v1/oncall/overrides", `{"role":"oncall","member":"car\u0000ol","duration":"1h","created_by":"alice"}`, "member"},
		{url + "/api/v1/deliveries/1/retry", `{"actor":"\u0000"}`, "actor"},
	} {
		resp, err := http.Post(tt.path, "application/json", strings.NewReader(tt.body))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %s: %s", tt.path, tt.body, body)
		require.Contains(t, string(body), tt.field+" contains a NUL byte or invalid UTF-8", tt.path)
	}
	require.Equal(t, http.StatusOK, post(t, inc+"/ack", `{"actor":"alice","note":"on it"}`))
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
