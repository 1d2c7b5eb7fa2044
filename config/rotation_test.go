package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRotationOnCall(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	week := &Rotation{TimeZone: "Europe/Berlin", Handoff: "09:00", Shift: Duration(7 * 24 * time.Hour), Start: "2026-11-30",
		Members: []Member{{Name: "alice"}, {Name: "bob"}, {Name: "carol"}}}
	half := &Rotation{Handoff: "08:00", Shift: Duration(12 * time.Hour), Start: "2026-11-30", Members: []Member{{Name: "day"}, {Name: "night"}}}
	cases := []struct {
		name      string
		r         *Rotation
		at        time.Time
		cur, next string
		until     time.Time
	}{
		{"first handoff", week, time.Date(2026, 11, 30, 9, 0, 0, 0, berlin), "alice", "bob", time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)},
		{"a minute before: the previous shift", week, time.Date(2026, 11, 30, 8, 59, 0, 0, berlin), "carol", "alice", time.Date(2026, 11, 30, 9, 0, 0, 0, berlin)},
		{"mid-week", week, time.Date(2026, 12, 3, 23, 0, 0, 0, berlin), "alice", "bob", time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)},
		{"second week", week, time.Date(2026, 12, 7, 9, 0, 0, 0, berlin), "bob", "carol", time.Date(2026, 12, 14, 9, 0, 0, 0, berlin)},
		{"wraps around", week, time.Date(2026, 12, 21, 10, 0, 0, 0, berlin), "alice", "bob", time.Date(2026, 12, 28, 9, 0, 0, 0, berlin)},
		// 2027-03-28 is the spring DST change in Berlin: the handoff stays at 09:00 local.
		{"across DST", week, time.Date(2027, 3, 29, 9, 0, 0, 0, berlin), "carol", "alice", time.Date(2027, 4, 5, 9, 0, 0, 0, berlin)},
		{"12h shifts, day", half, time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), "day", "night", time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)},
		{"12h shifts, night", half, time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), "night", "day", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur, until, next := tc.r.OnCall(tc.at)
			require.Equal(t, tc.cur, cur.Name)
			require.Equal(t, tc.next, next.Name)
			require.True(t, tc.until.Equal(until), "until %s, want %s", until, tc.until)
		})
	}
}

func TestRotationValidation(t *testing.T) {
	c := Default()
	c.Roles["oncall"] = Role{Rotation: &Rotation{TimeZone: "Mars/Olympus", Handoff: "25:00", Shift: Duration(time.Minute), Start: "soon",
		Members: []Member{{Name: "", Targets: []string{"nope"}}}}}
	err := c.Validate()
	require.Error(t, err)
	for _, want := range []string{"unknown time zone", "is not HH:MM", "shift must be at least 1h", "start must be a date", "name is required", `"nope"`} {
		require.ErrorContains(t, err, want)
	}
}
