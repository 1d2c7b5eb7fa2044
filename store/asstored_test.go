package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// asStored makes an alert exactly what its stored data decodes to: for
// one with every field set (a field added to alert.Alert fails here until
// the alert below sets it), with a time in a named zone and a monotonic
// reading, and for one whose maps are empty and times zero.
func TestAsStoredIsWhatTheStoredDataDecodesTo(t *testing.T) {
	full := alert.Alert{
		Source: "am", SourceType: "alertmanager", Status: alert.StatusFiring, Fingerprint: "f1",
		Labels: map[string]string{"alertname": "Down"}, Annotations: map[string]string{"summary": "<b>x</b> & y"},
		Title: "Down", Description: "d", Service: "api",
		StartsAt:     time.Date(2026, 12, 8, 9, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		EndsAt:       time.Now(),
		GeneratorURL: "http://prom/graph", SeverityHint: "critical",
		Impact: alert.Impact{AffectedUsersPct: 12.5, Known: true},
	}
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		require.False(t, v.Field(i).IsZero(), "set alert.Alert.%s in this test", v.Type().Field(i).Name)
	}
	empty := alert.Alert{Source: "am", Status: alert.StatusFiring, Fingerprint: "f2",
		Labels: map[string]string{}, Annotations: map[string]string{}}
	for _, a := range []alert.Alert{full, empty} {
		data, err := alertData(&a)
		require.NoError(t, err)
		var decoded alert.Alert
		require.NoError(t, unmarshalAlert(data, &decoded))
		asStored(&a)
		require.Equal(t, decoded, a)
	}
}
