package router

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// pmOpened is when the incidents of these tests open.
var pmOpened = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return pmOpened.Add(d) }

// resolvedP0 is the seed's P0 story: opened from Alertmanager, On-Call
// paged at once (first delivery fails, the retry lands), re-paged at 5m,
// acknowledged at 10m, the Team Lead step skipped at 15m, the Eng Manager
// paged at 30m, the alert clears at 40m, resolved at 50m.
func resolvedP0() *store.IncidentDetail {
	ev := func(id int64, d time.Duration, kind alert.EventKind, actor, detail string) alert.Event {
		return alert.Event{ID: id, IncidentID: 7, At: at(d), Kind: kind, Actor: actor, Detail: detail}
	}
	return &store.IncidentDetail{
		Incident: alert.Incident{
			ID: 7, Key: "INC-7", Severity: alert.P0, Status: alert.IncidentResolved,
			Title: "Checkout API down", Service: "checkout", Category: "outage", Runbook: "service-outage",
			GroupKey: "service=checkout", Source: "alertmanager", AlertCount: 2,
			OpenedAt:       pmOpened,
			AcknowledgedAt: at(10 * time.Minute), AcknowledgedBy: "alice",
			ResolvedAt: at(50 * time.Minute), ResolvedBy: "bob",
			AckDue: at(15 * time.Minute), ResolveDue: at(time.Hour), UpdatedAt: at(50 * time.Minute),
		},
		Alerts: []store.StoredAlert{
			{Alert: alert.Alert{Source: "alertmanager", Status: alert.StatusResolved, Fingerprint: "b2c3d4e5f6a70819",
				Title: "CheckoutLatencyHigh", StartsAt: pmOpened.Add(-30 * time.Second),
				Impact: alert.Impact{AffectedUsersPct: 40, Known: true}}, IncidentKey: "INC-7"},
			{Alert: alert.Alert{Source: "alertmanager", Status: alert.StatusResolved, Fingerprint: "a1b2c3d4e5f60718",
				Title: "CheckoutAPIDown", StartsAt: pmOpened.Add(-90 * time.Second),
				Impact: alert.Impact{AffectedUsersPct: 62.5, Known: true}}, IncidentKey: "INC-7"},
		},
		// Deliberately out of order: the draft sorts by time, then id.
		Timeline: []alert.Event{
			ev(20, 50*time.Minute+2*time.Second, alert.EventNotified, "router", "pagerduty-oncall: resolve P0/resolve delivered (attempt 1, 95ms)"),
			ev(1, 0, alert.EventDetected, "source:alertmanager", "alert a1b2c3d4e5f60718 (alertmanager): CheckoutAPIDown"),
			ev(2, 0, alert.EventClassified, "rules", "rule checkout-outage: P0, group service=checkout"),
			ev(3, 0, alert.EventEscalated, "router", "paged oncall (P0 oncall immediate) via pagerduty-oncall"),
			ev(4, 0, alert.EventNotified, "router", "announced to #incidents via slack-incidents"),
			ev(5, 2*time.Second, alert.EventDeliveryFail, "router", "pagerduty-oncall: page P0/oncall attempt 1 failed: server: 503; retry in 2s"),
			ev(6, 4*time.Second, alert.EventNotified, "router", "pagerduty-oncall: page P0/oncall delivered (attempt 2, 120ms)"),
			ev(7, 20*time.Second, alert.EventAlertAdded, "source:alertmanager", "alert b2c3d4e5f6a70819 (alertmanager): CheckoutLatencyHigh"),
			ev(8, 5*time.Minute, alert.EventEscalated, "router", "paged oncall (P0 oncall repeat 1) via pagerduty-oncall"),
			ev(9, 8*time.Minute, alert.EventUpdate, "carol", "investigating elevated 5xx"),
			ev(10, 10*time.Minute, alert.EventAcknowledged, "alice", "acknowledged: on it"),
			ev(11, 10*time.Minute+time.Second, alert.EventNotified, "router", "acknowledgement sent via pagerduty-oncall"),
			ev(12, 15*time.Minute, alert.EventStepSkipped, "router", "teamlead (P0 teamlead 15m): incident already acknowledged"),
			ev(13, 20*time.Minute, alert.EventUpdate, "alice", "rolled back deploy 42 | error rate falling\nwatching"),
			ev(14, 30*time.Minute, alert.EventEscalated, "router", "paged engmanager (P0 engmanager 30m) via slack-leads"),
			ev(15, 30*time.Minute+time.Second, alert.EventNotified, "router", "slack-leads: page P0/engmanager delivered (attempt 1, 80ms)"),
			ev(16, 40*time.Minute, alert.EventAlertResolve, "source:alertmanager", "alert a1b2c3d4e5f60718 resolved"),
			ev(17, 41*time.Minute, alert.EventAlertResolve, "source:alertmanager", "alert b2c3d4e5f6a70819 resolved"),
			ev(18, 50*time.Minute, alert.EventResolved, "bob", "resolved: rollback complete"),
			ev(19, 50*time.Minute, alert.EventNotified, "router", "resolution sent via pagerduty-oncall, slack-incidents"),
		},
	}
}

var outageRunbook = &config.Runbook{
	Name: "service-outage", Title: "Service Outage", URL: "https://runbooks.example.com/outage",
	Steps: []string{
		"curl -f http://api-gateway:4000/health",
		"kubectl rollout restart deployment/api-gateway",
		"kubectl logs -f deployment/api-gateway --tail=100",
	},
}

func TestPostmortemGolden(t *testing.T) {
	got := Postmortem(resolvedP0(), outageRunbook, at(2*time.Hour))
	path := filepath.Join("testdata", "postmortem-p0-resolved.md")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

func TestPostmortemResolvedP0(t *testing.T) {
	md := Postmortem(resolvedP0(), outageRunbook, at(2*time.Hour))

	t.Run("sections in template order", func(t *testing.T) {
		requireInOrder(t, md,
			"# Post-mortem: INC-7 — Checkout API down\n",
			"**Severity:** P0 Critical · **Service:** checkout · **Category:** outage · **Status:** resolved",
			"_Draft generated by alertgate at 2025-03-14T11:00:00Z — edit before publishing._",
			"## 1. Summary", "### What", "### When", "### Duration", "### Impact", "### SLA",
			"## 2. Timeline", "### Detection", "### Response", "### Mitigation", "### Resolution",
			"## 3. Root Cause", "**Primary cause:** _to be completed_", "**Contributing factors:**",
			"## 4. Actions", "**Immediate fixes:**", "**Long-term improvements:**",
			"### Lessons learned", "### Prevention")
	})
	t.Run("summary", func(t *testing.T) {
		requireInOrder(t, md,
			"- Alerts: 2\n",
			"  - `a1b2c3d4e5f60718` CheckoutAPIDown (alertmanager, resolved)\n",
			"  - `b2c3d4e5f6a70819` CheckoutLatencyHigh (alertmanager, resolved)\n",
			"- Opened: 2025-03-14T09:00:00Z\n",
			"- First alert started at its source: 2025-03-14T08:58:30Z\n",
			"- Acknowledged: 2025-03-14T09:10:00Z by alice\n",
			"- Resolved: 2025-03-14T09:50:00Z by bob\n",
			"50m (opened → resolved)\n",
			"- Severity: P0 (Critical)\n",
			"- Affected users: up to 62.5% (reported by 2 of 2 alerts)\n",
			"- Customer impact: _to be completed_\n")
	})
	t.Run("SLA met", func(t *testing.T) {
		require.Contains(t, md, "- Response (acknowledge within 15m): **met** — acknowledged at 2025-03-14T09:10:00Z, 10m after opening (due 2025-03-14T09:15:00Z)\n")
		require.Contains(t, md, "- Resolution (resolve within 1h): **met** — resolved at 2025-03-14T09:50:00Z, 50m after opening (due 2025-03-14T10:00:00Z)\n")
	})
	t.Run("phase durations", func(t *testing.T) {
		requireInOrder(t, md,
			"| Time to detect (first alert started → opened) | 1m30s |\n",
			"| Time to acknowledge (opened → acknowledged) | 10m |\n",
			"| Time to resolve after acknowledgement (acknowledged → resolved) | 40m |\n",
			"| Total (opened → resolved) | 50m |\n")
	})
	t.Run("runbook", func(t *testing.T) {
		require.Contains(t, md, "### Runbook used\n\n**Service Outage** (`service-outage`) — https://runbooks.example.com/outage\n\n"+
			"```\ncurl -f http://api-gateway:4000/health\nkubectl rollout restart deployment/api-gateway\n"+
			"kubectl logs -f deployment/api-gateway --tail=100\n```\n")
	})
	t.Run("table cells escaped", func(t *testing.T) {
		require.Contains(t, md, "| 2025-03-14T09:20:00Z | +20m | update_posted | alice | rolled back deploy 42 \\| error rate falling watching |\n")
	})
}

func TestPostmortemPhases(t *testing.T) {
	md := Postmortem(resolvedP0(), nil, at(2*time.Hour))
	phases := phaseSections(t, md)
	want := map[string][]string{
		"Detection": {
			"| +0s | detected | source:alertmanager |",
			"| +0s | classified | rules |",
			"| +20s | alert_added | source:alertmanager |",
		},
		"Response": {
			"| +0s | escalated | router | paged oncall (P0 oncall immediate)",
			"| +0s | notified | router | announced to #incidents",
			"| +2s | delivery_failed | router | pagerduty-oncall: page P0/oncall attempt 1 failed",
			"| +4s | notified | router | pagerduty-oncall: page P0/oncall delivered",
			"| +5m | escalated | router | paged oncall (P0 oncall repeat 1)",
			"| +8m | update_posted | carol |",
			"| +10m | acknowledged | alice |",
			"| +10m1s | notified | router | acknowledgement sent",
			"| +15m | step_skipped | router | teamlead",
			"| +30m | escalated | router | paged engmanager",
			"| +30m1s | notified | router | slack-leads: page P0/engmanager delivered",
		},
		"Mitigation": {
			"| +20m | update_posted | alice |",
			"| +40m | alert_resolved |",
			"| +41m | alert_resolved |",
		},
		"Resolution": {
			"| +50m | resolved | bob |",
			"| +50m | notified | router | resolution sent",
			"| +50m2s | notified | router | pagerduty-oncall: resolve",
		},
	}
	for _, name := range phaseNames {
		t.Run(name, func(t *testing.T) {
			rows := phases[name]
			require.Len(t, rows, len(want[name]), strings.Join(rows, "\n"))
			for i, w := range want[name] {
				require.Contains(t, rows[i], w)
			}
		})
	}
	t.Run("no runbook section without a runbook", func(t *testing.T) {
		require.Contains(t, md, "### Runbook used\n\n`service-outage` (not found in the configuration)\n")
	})
}

func TestPostmortemSLA(t *testing.T) {
	tests := []struct {
		name   string
		change func(inc *alert.Incident)
		now    time.Time
		want   []string
	}{
		{
			name: "acknowledged late and resolved late",
			change: func(inc *alert.Incident) {
				inc.AcknowledgedAt, inc.ResolvedAt = at(20*time.Minute), at(75*time.Minute)
			},
			want: []string{
				"- Response (acknowledge within 15m): **missed** by 5m — acknowledged at 2025-03-14T09:20:00Z, 20m after opening (due 2025-03-14T09:15:00Z)\n",
				"- Resolution (resolve within 1h): **missed** by 15m — resolved at 2025-03-14T10:15:00Z, 1h15m after opening (due 2025-03-14T10:00:00Z)\n",
				"| Time to resolve after acknowledgement (acknowledged → resolved) | 55m |\n",
			},
		},
		{
			name: "resolved without acknowledgement in time",
			change: func(inc *alert.Incident) {
				inc.AcknowledgedAt, inc.AcknowledgedBy, inc.ResolvedAt = time.Time{}, "", at(12*time.Minute)
			},
			want: []string{
				"- Acknowledged: not acknowledged\n",
				"- Response (acknowledge within 15m): **met** — resolved without acknowledgement at 2025-03-14T09:12:00Z, 12m after opening (due 2025-03-14T09:15:00Z)\n",
				"| Time to acknowledge (opened → acknowledged) | not acknowledged |\n",
				"| Time to resolve after acknowledgement (acknowledged → resolved) | — |\n",
			},
		},
		{
			name:   "no deadlines recorded",
			change: func(inc *alert.Incident) { inc.AckDue, inc.ResolveDue = time.Time{}, time.Time{} },
			want: []string{
				"- Response (acknowledge): no target recorded\n",
				"- Resolution (resolve): no target recorded\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := resolvedP0()
			tt.change(&d.Incident)
			md := Postmortem(d, nil, at(2*time.Hour))
			for _, w := range tt.want {
				require.Contains(t, md, w)
			}
		})
	}
}

func TestPostmortemOpenIncident(t *testing.T) {
	d := resolvedP0()
	d.Incident.Status, d.Incident.ResolvedAt, d.Incident.ResolvedBy = alert.IncidentAcknowledged, time.Time{}, ""
	d.Incident.Severity, d.Incident.Service, d.Incident.Category = alert.P1, "", ""
	d.Incident.AckDue, d.Incident.ResolveDue = at(30*time.Minute), at(4*time.Hour)
	d.Alerts[0].Impact, d.Alerts[1].Impact = alert.Impact{}, alert.Impact{}
	d.Timeline = d.Timeline[1:18] // up to the alerts clearing, before the resolution

	md := Postmortem(d, nil, at(45*time.Minute))

	requireInOrder(t, md,
		"**Severity:** P1 High · **Service:** — · **Category:** — · **Status:** acknowledged",
		"- Resolved: still open\n",
		"Still open: 45m so far (as of 2025-03-14T09:45:00Z)\n",
		"- Customer impact: _to be completed_\n",
		"- Response (acknowledge within 30m): **met** — acknowledged at 2025-03-14T09:10:00Z",
		"- Resolution (resolve within 4h): **pending** — 3h15m left (due 2025-03-14T13:00:00Z)\n",
		"| Time to resolve after acknowledgement (acknowledged → resolved) | still open, 35m so far |\n",
		"| Total (opened → now) | still open, 45m so far |\n",
		"### Resolution\n\n_No events._\n")
	require.NotContains(t, md, "Affected users")

	t.Run("overdue", func(t *testing.T) {
		md := Postmortem(d, nil, at(5*time.Hour))
		require.Contains(t, md, "- Resolution (resolve within 4h): **missed** by 1h — not resolved yet (due 2025-03-14T13:00:00Z)\n")
	})
	t.Run("unacknowledged", func(t *testing.T) {
		d := resolvedP0()
		d.Incident.Status, d.Incident.ResolvedAt, d.Incident.AcknowledgedAt = alert.IncidentTriggered, time.Time{}, time.Time{}
		d.Timeline = d.Timeline[1:6]
		md := Postmortem(d, nil, at(20*time.Minute))
		require.Contains(t, md, "- Response (acknowledge within 15m): **missed** by 5m — not acknowledged yet (due 2025-03-14T09:15:00Z)\n")
		require.Contains(t, md, "### Mitigation\n\n_No events._\n")
	})
}

func TestPostmortemDeterministic(t *testing.T) {
	a := Postmortem(resolvedP0(), outageRunbook, at(2*time.Hour))
	d := resolvedP0()
	for i, j := 0, len(d.Timeline)-1; i < j; i, j = i+1, j-1 {
		d.Timeline[i], d.Timeline[j] = d.Timeline[j], d.Timeline[i]
	}
	d.Alerts[0], d.Alerts[1] = d.Alerts[1], d.Alerts[0]
	require.Equal(t, a, Postmortem(d, outageRunbook, at(2*time.Hour)))
}

func TestPostmortemHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "cell escapes pipes and folds lines", got: cell("a | b\r\nc"), want: `a \| b c`},
		{name: "human rounds to the second", got: human(90*time.Second + 400*time.Millisecond), want: "1m30s"},
		{name: "human hours", got: human(time.Hour + 5*time.Minute), want: "1h5m"},
		{name: "human zero", got: human(0), want: "0s"},
		{name: "offset negative", got: offset(-5 * time.Second), want: "-5s"},
		{name: "fence outgrows backticks in steps", got: codeFence([]string{"echo ````x```"}), want: "`````"},
		{name: "fence default", got: codeFence([]string{"echo `x`"}), want: "```"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
}

// requireInOrder asserts every part occurs in s, each after the previous.
func requireInOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		require.GreaterOrEqual(t, i, 0, "missing or out of order: %q", p)
		rest = rest[i+len(p):]
	}
}

// phaseSections returns the table rows under each phase heading of the
// timeline.
func phaseSections(t *testing.T, md string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var cur string
	for line := range strings.SplitSeq(md, "\n") {
		switch {
		case strings.HasPrefix(line, "## 3."):
			return out
		case strings.HasPrefix(line, "### "):
			cur = strings.TrimPrefix(line, "### ")
		case cur != "" && strings.HasPrefix(line, "| 2025-"):
			out[cur] = append(out[cur], line)
		}
	}
	t.Fatal("no root cause section")
	return nil
}
