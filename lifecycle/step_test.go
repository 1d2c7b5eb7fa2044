package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNext(t *testing.T) {
	inOpen := func(firing bool) *Stored { return &Stored{Firing: firing, Incident: 4, IncidentOpen: true} }
	cases := []struct {
		name   string
		firing bool
		st     *Stored
		want   Step
	}{
		{"new firing alert goes to its group", true, nil, StepGroup},
		{"firing repeat in its open incident", true, inOpen(true), StepRepeat},
		{"fires again in its open incident", true, inOpen(false), StepRefire},
		{"its incident resolved: goes to its group", true, &Stored{Firing: true, Incident: 4}, StepGroup},
		{"suppressed, in no incident: goes to its group", true, &Stored{Firing: true, Suppressed: true}, StepGroup},
		{"resolved alert never seen is recorded", false, nil, StepRecord},
		{"resolved while firing in its open incident", false, inOpen(true), StepResolve},
		{"resolved again", false, inOpen(false), StepSettle},
		{"resolved after its incident was resolved by hand", false, &Stored{Firing: true, Incident: 4}, StepSettle},
		{"suppressed alert resolved", false, &Stored{Firing: true, Suppressed: true}, StepSettle},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, Next(c.firing, c.st))
		})
	}
}

func TestCounted(t *testing.T) {
	cases := []struct {
		name string
		st   *Stored
		want bool
	}{
		{"never stored", nil, false},
		{"firing in an incident", &Stored{Firing: true, Incident: 4}, true},
		{"resolved", &Stored{Incident: 4}, false},
		{"in no incident", &Stored{Firing: true}, false},
		{"suppressed", &Stored{Firing: true, Incident: 4, Suppressed: true}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.st.Counted())
		})
	}
}

func TestInOpen(t *testing.T) {
	cases := []struct {
		name string
		st   *Stored
		want bool
	}{
		{"never stored", nil, false},
		{"in an open incident", &Stored{Incident: 4, IncidentOpen: true}, true},
		{"in a resolved incident", &Stored{Incident: 4}, false},
		{"in no incident", &Stored{Firing: true}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.st.InOpen())
		})
	}
}

func TestResolvesIncident(t *testing.T) {
	require.True(t, ResolvesIncident(0))
	require.False(t, ResolvesIncident(1))
}
