package adapters

import (
	"os"
	"path/filepath"
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
