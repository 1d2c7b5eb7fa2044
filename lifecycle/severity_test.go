package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

func TestRaises(t *testing.T) {
	cases := []struct {
		name     string
		cur, sev alert.Severity
		want     bool
	}{
		{"more urgent", alert.P2, alert.P1, true},
		{"most urgent", alert.P3, alert.P0, true},
		{"same", alert.P1, alert.P1, false},
		{"less urgent", alert.P1, alert.P3, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, Raises(c.cur, c.sev))
		})
	}
}

func TestSetSeverity(t *testing.T) {
	cases := []struct {
		name     string
		from, to alert.Severity
		want     Relevel
		event    alert.EventKind
	}{
		{"same", alert.P2, alert.P2, Kept, alert.EventRaised},
		{"more urgent", alert.P2, alert.P0, Raised, alert.EventRaised},
		{"less urgent", alert.P1, alert.P3, Lowered, alert.EventLowered},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := SetSeverity(c.from, c.to)
			require.Equal(t, c.want, r)
			require.Equal(t, c.event, r.Event())
		})
	}
}

func TestRelevelSkips(t *testing.T) {
	cases := []struct {
		name string
		r    Relevel
		page bool
		due  time.Time
		want bool
	}{
		{"lowered: a page already due is left out", Lowered, true, t0.Add(-time.Minute), true},
		{"lowered: a page due now is left out", Lowered, true, t0, true},
		{"lowered: a later page is kept", Lowered, true, t0.Add(time.Millisecond), false},
		{"lowered: other steps already due are kept", Lowered, false, t0.Add(-time.Minute), false},
		{"raised: a page already due runs now", Raised, true, t0.Add(-time.Minute), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.r.Skips(c.page, c.due, t0))
		})
	}
}
