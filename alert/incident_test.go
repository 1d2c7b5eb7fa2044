package alert

import "testing"

func TestStops(t *testing.T) {
	for _, tc := range []struct {
		st, stop IncidentStatus
		want     bool
	}{
		{IncidentTriggered, IncidentAcknowledged, false},
		{IncidentAcknowledged, IncidentAcknowledged, true},
		{IncidentResolved, IncidentAcknowledged, true},
		{IncidentAcknowledged, IncidentResolved, false},
		{IncidentResolved, IncidentResolved, true},
		{IncidentResolved, "", false},
	} {
		if got := tc.st.Stops(tc.stop); got != tc.want {
			t.Errorf("%s.Stops(%q) = %v, want %v", tc.st, tc.stop, got, tc.want)
		}
	}
}
