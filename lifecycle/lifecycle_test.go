package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// policy reopens within 10m and marks incidents flapping after 3 reopens
// within an hour, as the store's flapping tests configure it.
var policy = Policy{ReopenWithin: 10 * time.Minute, Flapping: Flapping{Reopens: 3, Window: time.Hour}}

// resolved is a resolved incident of the group, resolved ago before t0.
func resolved(ago time.Duration) *Latest {
	return &Latest{ID: 7, Severity: alert.P2, ResolvedAt: t0.Add(-ago), Flaps: 2}
}

func TestDecide(t *testing.T) {
	flapping := func(ago time.Duration) *Latest {
		l := resolved(ago)
		l.Flapping = true
		return l
	}
	recent := func(l *Latest, n int) *Latest {
		l.RecentReopens = n
		return l
	}
	cases := []struct {
		name       string
		pol        Policy
		now        time.Time
		sev        alert.Severity
		latest     *Latest
		suppressed bool
		want       Decision
	}{
		{name: "no incident opens", pol: policy, sev: alert.P2, want: Decision{Action: Open}},
		{name: "open incident joined", pol: policy, sev: alert.P2, latest: &Latest{ID: 3, Open: true, Severity: alert.P2},
			want: Decision{Action: Join, Incident: 3}},
		{name: "more urgent alert raises", pol: policy, sev: alert.P0, latest: &Latest{ID: 3, Open: true, Severity: alert.P2},
			want: Decision{Action: Join, Incident: 3, Raise: true}},
		{name: "less urgent alert never lowers", pol: policy, sev: alert.P3, latest: &Latest{ID: 3, Open: true, Severity: alert.P1},
			want: Decision{Action: Join, Incident: 3}},
		{name: "open incident joined even when suppressed", pol: policy, sev: alert.P2, suppressed: true,
			latest: &Latest{ID: 3, Open: true, Severity: alert.P2}, want: Decision{Action: Join, Incident: 3}},
		{name: "suppressed with no incident", pol: policy, sev: alert.P2, suppressed: true, want: Decision{Action: Suppress}},
		{name: "suppressed before reopen", pol: policy, sev: alert.P2, suppressed: true, latest: resolved(time.Minute),
			want: Decision{Action: Suppress}},
		{name: "resolved within reopen_within reopens", pol: policy, sev: alert.P2, latest: recent(resolved(2*time.Minute), 0),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeReopened, Flap: 3, Reopens: 1, Since: 2 * time.Minute}}},
		{name: "reopen keeps the incident's severity", pol: policy, sev: alert.P0, latest: resolved(2 * time.Minute),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeReopened, Flap: 3, Reopens: 1, Since: 2 * time.Minute}}},
		{name: "reopen_within boundary reopens", pol: policy, sev: alert.P2, latest: resolved(10 * time.Minute),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeReopened, Flap: 3, Reopens: 1, Since: 10 * time.Minute}}},
		{name: "a millisecond past reopen_within opens", pol: policy, sev: alert.P2, latest: resolved(10*time.Minute + time.Millisecond),
			want: Decision{Action: Open}},
		{name: "boundary compared in stored milliseconds", pol: policy, now: t0.Add(999 * time.Microsecond), sev: alert.P2,
			latest: resolved(10 * time.Minute),
			want:   Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeReopened, Flap: 3, Reopens: 1, Since: 10*time.Minute + 999*time.Microsecond}}},
		{name: "reopen_within zero never reopens", pol: Policy{Flapping: policy.Flapping}, sev: alert.P2, latest: flapping(time.Minute),
			want: Decision{Action: Open}},
		{name: "third reopen within the window turns flapping", pol: policy, sev: alert.P2, latest: recent(resolved(time.Minute), 2),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeFlapping, Flap: 3, Flapping: true, Reopens: 3, Since: time.Minute}}},
		{name: "second reopen within the window is not flapping", pol: policy, sev: alert.P2, latest: recent(resolved(time.Minute), 1),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeReopened, Flap: 3, Reopens: 2, Since: time.Minute}}},
		{name: "threshold of one: the first reopen flaps", pol: Policy{ReopenWithin: 10 * time.Minute, Flapping: Flapping{Reopens: 1, Window: time.Hour}},
			sev: alert.P2, latest: resolved(time.Minute),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeFlapping, Flap: 3, Flapping: true, Reopens: 1, Since: time.Minute}}},
		{name: "flapping incident reopens past reopen_within", pol: policy, sev: alert.P2, latest: flapping(20 * time.Minute),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeFlapped, Flap: 3, Flapping: true, Since: 20 * time.Minute}}},
		{name: "flapping incident within reopen_within only tells the channel", pol: policy, sev: alert.P2, latest: recent(flapping(time.Minute), 5),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeFlapped, Flap: 3, Flapping: true, Since: time.Minute}}},
		{name: "flapping window expired: a new incident", pol: policy, sev: alert.P2, latest: flapping(time.Hour),
			want: Decision{Action: Open}},
		{name: "flapping window expired within reopen_within: reopened, no longer flapping",
			pol: Policy{ReopenWithin: 2 * time.Hour, Flapping: Flapping{Reopens: 3, Window: time.Hour}}, sev: alert.P2, latest: flapping(time.Hour),
			want: Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeReopened, Flap: 3, Reopens: 1, Since: time.Hour}}},
		{name: "hysteresis off: a flapping incident reopens plainly", pol: Policy{ReopenWithin: 10 * time.Minute}, sev: alert.P2,
			latest: recent(flapping(time.Minute), 5),
			want:   Decision{Action: Reopen, Incident: 7, Reopening: Reopening{Change: ChangeReopened, Flap: 3, Since: time.Minute}}},
		{name: "hysteresis off: past reopen_within opens", pol: Policy{ReopenWithin: 10 * time.Minute}, sev: alert.P2, latest: flapping(20 * time.Minute),
			want: Decision{Action: Open}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = t0
			}
			require.Equal(t, c.want, c.pol.Decide(now, c.sev, c.latest, c.suppressed))
		})
	}
}

func TestLookBack(t *testing.T) {
	cases := []struct {
		name string
		pol  Policy
		want time.Duration
	}{
		{"reopen window", Policy{ReopenWithin: 10 * time.Minute}, 10 * time.Minute},
		{"longer flapping window", policy, time.Hour},
		{"shorter flapping window", Policy{ReopenWithin: 2 * time.Hour, Flapping: Flapping{Reopens: 3, Window: time.Hour}}, 2 * time.Hour},
		{"flapping half configured", Policy{ReopenWithin: 10 * time.Minute, Flapping: Flapping{Window: time.Hour}}, 10 * time.Minute},
		{"never reopens", Policy{Flapping: policy.Flapping}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.pol.LookBack())
		})
	}
}

// The store counts an incident's recent reopens only when the decision
// depends on them.
func TestCountsReopens(t *testing.T) {
	cases := []struct {
		name   string
		pol    Policy
		latest Latest
		want   bool
	}{
		{"reopens with the hysteresis on", policy, *resolved(time.Minute), true},
		{"hysteresis off", Policy{ReopenWithin: 10 * time.Minute}, *resolved(time.Minute), false},
		{"still flapping", policy, Latest{ResolvedAt: t0.Add(-time.Minute), Flapping: true}, false},
		{"does not reopen", policy, *resolved(20 * time.Minute), false},
		{"open incident", policy, Latest{Open: true}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.pol.CountsReopens(t0, c.latest))
		})
	}
}

func TestNote(t *testing.T) {
	cases := []struct {
		name    string
		r       Reopening
		ackedBy string
		want    string
	}{
		{"reopened", Reopening{Change: ChangeReopened, Flap: 1, Since: 2*time.Minute + 400*time.Millisecond}, "",
			"alert f1 fired again 2m0s after resolution (flap #1); escalation starts again"},
		{"acknowledgement does not carry over", Reopening{Change: ChangeReopened, Flap: 2, Since: time.Minute}, "alice",
			"alert f1 fired again 1m0s after resolution (flap #2); the acknowledgement by alice does not carry over; escalation starts again"},
		{"turns flapping", Reopening{Change: ChangeFlapping, Flap: 3, Flapping: true, Reopens: 3, Since: time.Minute}, "",
			"alert f1 fired again 1m0s after resolution (flap #3); flapping (3 reopens within 1h0m0s): paged once, later reopens only tell the channel until it stays resolved for 1h0m0s"},
		{"flapped", Reopening{Change: ChangeFlapped, Flap: 4, Flapping: true, Since: 20 * time.Minute}, "",
			"alert f1 fired again 20m0s after resolution (flap #4); flapping: the channel is told, nobody is paged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, policy.Note(c.r, "f1", c.ackedBy))
		})
	}
}
