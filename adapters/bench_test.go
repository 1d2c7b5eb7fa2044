package adapters

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertgate/alertgate/config"
)

// BenchmarkAlertmanagerDecode decodes the captured firing webhook as
// Alertmanager puts it on the wire.
func BenchmarkAlertmanagerDecode(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "alertmanager-firing.wire-reconstructed.json"))
	if err != nil {
		b.Fatal(err)
	}
	d := testDecoder(b, config.Source{Name: "am", Type: TypeAlertmanager, Labels: map[string]string{"env": "prod"}})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := d.Decode(nil, body); err != nil {
			b.Fatal(err)
		}
	}
}

// worstCaseBodies are bodies of about 1 MB (the default max_body_bytes)
// built to cost the decoder the most memory per byte.
func worstCaseBodies() map[string][]byte {
	var labels, alerts strings.Builder
	for i := 0; labels.Len() < 1<<20-64; i++ {
		fmt.Fprintf(&labels, `"l%x":"",`, i)
	}
	for i := 0; i < MaxAlerts; i++ {
		fmt.Fprintf(&alerts, `{"labels":{"alertname":"A%d","instance":"host-%d:9100","job":"node"}},`, i, i)
	}
	return map[string][]byte{
		// 349,000 empty alerts: refused before decoding.
		"empty_alerts": []byte("[" + strings.TrimSuffix(strings.Repeat("{},", 349000), ",") + "]"),
		// One alert with 100,000 labels: decoded, then refused by Limits.
		"many_labels": []byte(`[{"labels":{` + strings.TrimSuffix(labels.String(), ",") + `}}]`),
		// 10,000 small alerts, the most a body may carry.
		"max_alerts": []byte(`{"version":"4","status":"firing","alerts":[` + strings.TrimSuffix(alerts.String(), ",") + `]}`),
	}
}

// BenchmarkDecodeWorstCase reports bytes allocated per request for the
// worst-case bodies (compare with BenchmarkAlertmanagerDecode, a normal
// one).
func BenchmarkDecodeWorstCase(b *testing.B) {
	d := testDecoder(b, config.Source{Name: "am", Type: TypeAlertmanager})
	for name, body := range worstCaseBodies() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				bt, err := d.Decode(nil, body)
				if err == nil {
					err = Limits{}.Apply(&bt)
				}
				_ = err
			}
		})
	}
}
