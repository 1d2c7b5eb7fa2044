package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// BenchmarkIngestRequest reports the bytes allocated by one ingest
// request through the server (routing, budget, adapter, limits; the store
// is a fake) for a normal Alertmanager notification and for 1 MB
// worst-case bodies.
func BenchmarkIngestRequest(b *testing.B) {
	normal, err := os.ReadFile("../adapters/testdata/alertmanager-firing.wire-reconstructed.json")
	require.NoError(b, err)
	var alerts, labels strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&alerts, `{"labels":{"alertname":"Storm","instance":"host-%d:9100","job":"node"}},`, i)
	}
	for i := 0; labels.Len() < 1<<20-64; i++ {
		fmt.Fprintf(&labels, `"l%x":"",`, i)
	}
	bodies := []struct {
		name, body string
		code       int
	}{
		{"normal", string(normal), http.StatusOK},
		{"max_alerts", `{"version":"4","status":"firing","alerts":[` + strings.TrimSuffix(alerts.String(), ",") + `]}`, http.StatusOK},
		{"many_labels", `[{"labels":{` + strings.TrimSuffix(labels.String(), ",") + `}}]`, http.StatusBadRequest},
		{"empty_alerts", "[" + strings.TrimSuffix(strings.Repeat("{},", 349000), ",") + "]", http.StatusBadRequest},
	}
	ing := &fakeIngester{fn: func(_ context.Context, a []alert.Alert) (store.IngestResult, error) {
		return store.IngestResult{Alerts: len(a)}, nil
	}}
	srv, err := New(config.Server{MaxBodyBytes: 2 << 20}, []config.Source{{Name: "am", Type: "alertmanager"}},
		Deps{Ingester: ing, Incidents: &fakeIncidents{}, Actions: &fakeActions{}})
	require.NoError(b, err)
	for _, bb := range bodies {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				ing.calls = nil
				resp, err := srv.App().Test(newRequest(http.MethodPost, "/api/v1/alerts/am", bb.body), -1)
				require.NoError(b, err)
				resp.Body.Close()
				require.Equal(b, bb.code, resp.StatusCode)
			}
		})
	}
}
