package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// t0 is when the synthetic run's incidents open.
var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// testPlan pages two targets: one that answers, one that fails. P0 has
// two steps (now, +5s), P1 one.
func testPlan() chaosPlan {
	return chaosPlan{
		Steps: map[int][]chaosStep{0: {{"oncall#0", 0}, {"team-lead#0", 5 * time.Second}}, 1: {{"oncall#0", 0}}},
		Targets: []chaosTarget{
			{Name: "healthy", Class: answers, Healthy: true},
			{Name: "broken", Class: fails},
		},
	}
}

// goodRecords is a run that kept every promise: groups 0 (P0, INC-1, two
// alerts) and 1 (P1, INC-2, one alert); every page arrived once at the
// healthy target (INC-1's first 30 ms late), the broken target's are dead
// letters; one page re-sent after a SIGKILL.
func goodRecords() chaosRecords {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	return chaosRecords{
		Sent:  map[string]int{"a1": 0, "a2": 0, "b1": 1, "c1": 2},
		Acked: map[string]bool{"a1": true, "a2": true, "b1": true}, // c1 never got a 2xx
		Incidents: []incidentRow{
			{ID: 1, Severity: 0, AlertCount: 2, FiringCount: 2, OpenedAt: t0},
			{ID: 2, Severity: 1, AlertCount: 1, FiringCount: 1, OpenedAt: t0},
		},
		Alerts: []alertRow{{"a1", 1, true}, {"a2", 1, true}, {"b1", 2, true}},
		Jobs: []jobRow{
			{"INC-1/page/oncall#0", "step", "done"}, {"INC-1/page/team-lead#0", "step", "done"}, {"INC-2/page/oncall#0", "step", "done"},
			{"INC-1/page/oncall#0/healthy", "delivery", "done"}, {"INC-1/page/team-lead#0/healthy", "delivery", "done"},
			{"INC-2/page/oncall#0/healthy", "delivery", "done"},
			{"INC-1/page/oncall#0/broken", "delivery", "dead"}, {"INC-1/page/team-lead#0/broken", "delivery", "pending"},
			{"INC-2/page/oncall#0/broken", "delivery", "dead"},
		},
		Receptions: []receptionRow{
			{"healthy", "INC-1/page/oncall#0/healthy", "page", at(30 * time.Millisecond), 200},
			{"broken", "INC-1/page/oncall#0/broken", "page", at(31 * time.Millisecond), 500},
			{"healthy", "INC-2/page/oncall#0/healthy", "page", at(10 * time.Millisecond), 200},
			{"healthy", "INC-1/page/team-lead#0/healthy", "page", at(5 * time.Second), 200},
			{"healthy", "INC-1/page/team-lead#0/healthy", "page", at(2 * time.Minute), 200}, // after the kill
		},
		Kills: []time.Time{at(6 * time.Second)},
		End:   at(3 * time.Minute),
	}
}

func TestCheckChaosKeptPromises(t *testing.T) {
	f := checkChaos(testPlan(), goodRecords())
	require.Empty(t, f.broken())
	require.Equal(t, 3, f.Acked)
	require.Equal(t, 4, f.Sent)
	require.Equal(t, 3, f.DueAnswering)
	require.Equal(t, map[string]int{"dead": 2, "pending": 1}, f.DueFailing)
	require.Equal(t, 1, f.Resends)
	require.Equal(t, []time.Duration{2*time.Minute - 5*time.Second}, f.ResendDelays)
	require.Equal(t, []time.Duration{10 * time.Millisecond, 30 * time.Millisecond}, f.Lateness)
	require.Equal(t, []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond}, f.AllLateness)
	require.Equal(t, &targetTally{Due: 3, Delivered: 3}, f.PerTarget["healthy"])
	require.Equal(t, &targetTally{Due: 3, Dead: 2, Queued: 1, Refused: 1}, f.PerTarget["broken"])
}

// Each case breaks one promise of goodRecords and expects the checker to
// say which.
func TestCheckChaosBrokenPromises(t *testing.T) {
	tests := []struct {
		name   string
		breakf func(r *chaosRecords)
		want   []string // broken()
		detail func(f *chaosFindings) []string
		has    string // in detail
	}{
		{
			name: "a 2xx'd alert is not stored",
			breakf: func(r *chaosRecords) {
				r.Alerts = r.Alerts[1:]
				r.Incidents[0].AlertCount, r.Incidents[0].FiringCount = 1, 1
			},
			want:   []string{"1 alerts lost (2xx'd, not stored)"},
			detail: func(f *chaosFindings) []string { return f.Lost }, has: "a1",
		},
		{
			name: "a 2xx'd alert is stored without an incident",
			breakf: func(r *chaosRecords) {
				r.Alerts[0].IncidentID = 0
				r.Incidents[0].AlertCount, r.Incidents[0].FiringCount = 1, 1
			},
			want:   []string{"1 alerts lost (2xx'd, not stored)"},
			detail: func(f *chaosFindings) []string { return f.Lost }, has: "a1",
		},
		{
			name:   "an incident counts an alert twice",
			breakf: func(r *chaosRecords) { r.Incidents[0].AlertCount = 3 },
			want:   []string{"1 incidents with wrong counts"},
			detail: func(f *chaosFindings) []string { return f.WrongCounts }, has: "INC-1: alert_count 3, firing_count 2; 2 alerts stored, 2 firing",
		},
		{
			name:   "an incident's firing count is off",
			breakf: func(r *chaosRecords) { r.Incidents[1].FiringCount = 0 },
			want:   []string{"1 incidents with wrong counts"},
			detail: func(f *chaosFindings) []string { return f.WrongCounts }, has: "INC-2: alert_count 1, firing_count 0",
		},
		{
			name: "one group opened two incidents",
			breakf: func(r *chaosRecords) {
				r.Incidents[0].AlertCount, r.Incidents[0].FiringCount = 1, 1
				r.Incidents = append(r.Incidents, incidentRow{ID: 3, Severity: 0, AlertCount: 1, FiringCount: 1, OpenedAt: t0.Add(time.Hour)})
				r.Alerts[1].IncidentID = 3
			},
			want:   []string{"1 incidents with wrong counts"},
			detail: func(f *chaosFindings) []string { return f.WrongCounts }, has: "group 0 split over INC-1, INC-3",
		},
		{
			name: "an incident holds two groups",
			breakf: func(r *chaosRecords) {
				r.Alerts[2].IncidentID = 1
				r.Incidents[0].AlertCount, r.Incidents[0].FiringCount = 3, 3
				r.Incidents[1].AlertCount, r.Incidents[1].FiringCount = 0, 0
			},
			want:   []string{"1 incidents with wrong counts"},
			detail: func(f *chaosFindings) []string { return f.WrongCounts }, has: "INC-1 holds alerts of groups [0 1]",
		},
		{
			name:   "a due page never reached an answering target",
			breakf: func(r *chaosRecords) { r.Receptions = r.Receptions[1:] },
			want:   []string{"1 due pages never delivered to answering targets"},
			detail: func(f *chaosFindings) []string { return f.Undelivered }, has: "INC-1/page/oncall#0/healthy (done)",
		},
		{
			name: "a due step never ran",
			breakf: func(r *chaosRecords) {
				r.Receptions = r.Receptions[:3]
				r.Jobs = slices.DeleteFunc(r.Jobs, func(j jobRow) bool { return strings.HasPrefix(j.Key, "INC-1/page/team-lead#0/") })
				r.Jobs[1].State = "pending"
			},
			want:   []string{"1 due pages never delivered to answering targets", "1 due pages without a delivery job at failing targets"},
			detail: func(f *chaosFindings) []string { return f.Undelivered }, has: "INC-1/page/team-lead#0/healthy (no delivery job)",
		},
		{
			name:   "a page refused with a 429 was never delivered",
			breakf: func(r *chaosRecords) { r.Receptions[2].Status = 429 },
			want:   []string{"1 due pages never delivered to answering targets"},
			detail: func(f *chaosFindings) []string { return f.Undelivered }, has: "INC-2/page/oncall#0/healthy (done)",
		},
		{
			name:   "a page to a failing target has no job",
			breakf: func(r *chaosRecords) { r.Jobs = append(r.Jobs[:6], r.Jobs[7:]...) },
			want:   []string{"1 due pages without a delivery job at failing targets"},
			detail: func(f *chaosFindings) []string { return f.Invisible }, has: "INC-1/page/oncall#0/broken",
		},
		{
			name: "one step paged under two keys",
			breakf: func(r *chaosRecords) {
				r.Receptions = append(r.Receptions, receptionRow{"healthy", "INC-9/page/oncall#0/healthy", "page", t0.Add(time.Second), 200})
				r.Sent["a3"] = 0
				r.Alerts = append(r.Alerts, alertRow{"a3", 9, true})
				r.Incidents = append(r.Incidents, incidentRow{ID: 9, Severity: 0, AlertCount: 1, FiringCount: 1, OpenedAt: t0.Add(time.Hour)})
			},
			want:   []string{"1 incidents with wrong counts", "1 double pages (one step under several keys)"},
			detail: func(f *chaosFindings) []string { return f.DoublePages }, has: "group 0 oncall#0 at healthy under INC-1/page/oncall#0/healthy, INC-9/page/oncall#0/healthy",
		},
		{
			name:   "a key re-sent with no SIGKILL in between",
			breakf: func(r *chaosRecords) { r.Kills = nil },
			want:   []string{"1 same-key re-sends with no SIGKILL in between"},
			detail: func(f *chaosFindings) []string { return f.UnexplainedResends }, has: "INC-1/page/team-lead#0/healthy at healthy again after 1m55s",
		},
		{
			name: "a key re-sent twice, the second time with no SIGKILL before",
			breakf: func(r *chaosRecords) {
				r.Receptions = append(r.Receptions, receptionRow{"healthy", "INC-1/page/team-lead#0/healthy", "page", t0.Add(150 * time.Second), 200})
			},
			want:   []string{"1 same-key re-sends with no SIGKILL in between"},
			detail: func(f *chaosFindings) []string { return f.UnexplainedResends }, has: "again after 30s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := goodRecords()
			tt.breakf(&rec)
			f := checkChaos(testPlan(), rec)
			require.Equal(t, tt.want, f.broken())
			require.Contains(t, strings.Join(tt.detail(f), "\n"), tt.has)

			rep := &chaosReport{Plan: testPlan(), Runs: []*chaosRun{{Engine: "SQLite", Findings: f}}}
			var out bytes.Buffer
			require.NoError(t, rep.write(&out))
			require.Contains(t, out.String(), " FAIL**")
			require.Contains(t, out.String(), tt.has, "the report lists the instance")
			require.Len(t, rep.broken(), len(tt.want))
			require.Equal(t, "SQLite: "+tt.want[0], rep.broken()[0])
		})
	}
}

// What counts as a re-send: a key the target took in (2xx, or held until
// the gateway hung up) sent again; a 429 retried is not one, nor are the
// retries a failing target gets.
func TestCheckChaosResends(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	tests := []struct {
		name        string
		receptions  []receptionRow
		resends     int
		unexplained int
	}{
		{"unanswered at a kill, then sent again", []receptionRow{
			{"healthy", "K", "page", at(time.Second), 0}, {"healthy", "K", "page", at(2 * time.Minute), 200}}, 1, 0},
		{"taken in as the killed gateway died, sent again by the next", []receptionRow{
			{"healthy", "K", "page", at(5 * time.Second), 200}, {"healthy", "K", "page", at(5*time.Second + 116*time.Millisecond), 200}}, 1, 0},
		{"sent twice by the restarted gateway", []receptionRow{
			{"healthy", "K", "page", at(6 * time.Second), 200}, {"healthy", "K", "page", at(7 * time.Second), 200}}, 1, 1},
		{"unanswered with no kill, then sent again", []receptionRow{
			{"healthy", "K", "page", at(10 * time.Second), 0}, {"healthy", "K", "page", at(2 * time.Minute), 200}}, 1, 1},
		{"429, then retried", []receptionRow{
			{"healthy", "K", "page", at(time.Second), 429}, {"healthy", "K", "page", at(3 * time.Second), 200}}, 0, 0},
		{"a failing target's retries", []receptionRow{
			{"broken", "K", "page", at(10 * time.Second), 0}, {"broken", "K", "page", at(20 * time.Second), 0}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &chaosFindings{}
			checkResends(f, testPlan(), chaosRecords{Receptions: tt.receptions, Kills: []time.Time{at(5 * time.Second)}})
			require.Equal(t, tt.resends, f.Resends)
			require.Len(t, f.UnexplainedResends, tt.unexplained)
		})
	}
}

// Steps not yet due when the database was read are not expected.
func TestCheckChaosStepNotYetDue(t *testing.T) {
	rec := goodRecords()
	rec.End = t0.Add(time.Second)
	rec.Receptions = rec.Receptions[:3]
	f := checkChaos(testPlan(), rec)
	require.Empty(t, f.broken())
	require.Equal(t, 2, f.DueAnswering)
}

func TestChaosPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"none", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(seq(100)...), 0.99, 99 * time.Millisecond},
		{"p99 of 10 is the max", ms(seq(10)...), 0.99, 10 * time.Millisecond},
		{"max", ms(1, 5, 9), 1, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, percentile(tt.sorted, tt.q))
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestParsePageKey(t *testing.T) {
	tests := []struct {
		key          string
		inc          int64
		step, target string
		ok           bool
	}{
		{"INC-7/page/oncall#0/healthy", 7, "oncall#0", "healthy", true},
		{"INC-7/page/oncall#0/healthy/fallback:x", 0, "", "", false},
		{"INC-7/announce/#incidents/healthy", 0, "", "", false},
		{"X-7/page/oncall#0/healthy", 0, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			inc, step, target, ok := parsePageKey(tt.key)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.inc, inc)
			require.Equal(t, tt.step, step)
			require.Equal(t, tt.target, target)
		})
	}
}
