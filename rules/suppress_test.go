package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

var t0 = time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC) // a Sunday

func TestParseSilence(t *testing.T) {
	cases := []struct {
		name    string
		in      config.Silence
		wantErr string
	}{
		{"ok", config.Silence{Matchers: []string{`service="api"`}, EndsAt: "2026-11-29T05:00:00Z"}, ""},
		{"no matchers", config.Silence{EndsAt: "2026-11-29T05:00:00Z"}, "at least one matcher"},
		{"bad matcher", config.Silence{Matchers: []string{`service=~"("`}, EndsAt: "2026-11-29T05:00:00Z"}, `matcher "service=~\"(\""`},
		{"no end", config.Silence{Matchers: []string{`a="b"`}}, "ends_at is required"},
		{"bad end", config.Silence{Matchers: []string{`a="b"`}, EndsAt: "tomorrow"}, "not an RFC 3339 time"},
		{"bad start", config.Silence{Matchers: []string{`a="b"`}, StartsAt: "now", EndsAt: "2026-11-29T05:00:00Z"}, "starts_at"},
		{"ends before it starts", config.Silence{Matchers: []string{`a="b"`}, EndsAt: "2026-11-29T02:00:00Z"}, "after starts_at"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSilence(tc.in, t0)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, t0, s.StartsAt, "starts now by default")
			require.True(t, s.Active(t0))
			require.True(t, s.Active(t0.Add(2*time.Hour-time.Nanosecond)))
			require.False(t, s.Active(t0.Add(2*time.Hour)), "ends_at is exclusive")
			require.False(t, s.Active(t0.Add(-time.Second)))
		})
	}
}

func TestSilenceMatchesFields(t *testing.T) {
	s, err := ParseSilence(config.Silence{Matchers: []string{`service="api"`, `title=~".*disk.*"`}, EndsAt: "2027-01-01T00:00:00Z"}, t0)
	require.NoError(t, err)
	a := withTitle(am(map[string]string{"alertname": "X", "job": "api"}), "low disk")
	require.True(t, s.Matches(&a), "service is the alert's service (job label)")
	a.Title = "high cpu"
	require.False(t, s.Matches(&a))
}

func TestConfigSilences(t *testing.T) {
	cfg := config.Default()
	cfg.Silences = []config.Silence{
		{Matchers: []string{`service="search"`}, EndsAt: "2026-12-01T00:00:00Z", CreatedBy: "ops", Comment: "reindex"},
		{ID: "named", Matchers: []string{`service="x"`}, StartsAt: "2026-12-01T00:00:00Z", EndsAt: "2026-12-02T00:00:00Z"},
	}
	e, err := New(cfg)
	require.NoError(t, err)
	ss := e.Silences()
	require.Equal(t, "config-1", ss[0].ID)
	require.Equal(t, "named", ss[1].ID)
	require.True(t, ss[0].StartsAt.IsZero(), "applies from the start")

	a := am(map[string]string{"alertname": "X", "service": "search"})
	d := e.Evaluate(&a)
	sup, ok := e.Suppress(&a, &d, t0, nil, nil)
	require.True(t, ok, "config silences are always checked")
	require.Equal(t, Suppression{Kind: KindSilence, ID: "config-1", Detail: "silenced by config-1 until 2026-12-01T00:00:00Z (ops: reindex)"}, sup)
	_, ok = e.Suppress(&a, &d, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), nil, nil)
	require.False(t, ok, "expired")
}

func TestMaintenanceWindows(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, berlin) }
	cases := []struct {
		name   string
		window config.Maintenance
		now    time.Time
		want   bool
	}{
		{"inside", config.Maintenance{Weekdays: []string{"sunday"}, Start: "02:00", End: "04:00"}, at(2026, 11, 29, 3, 0), true},
		{"start is inclusive", config.Maintenance{Weekdays: []string{"sunday"}, Start: "02:00", End: "04:00"}, at(2026, 11, 29, 2, 0), true},
		{"end is exclusive", config.Maintenance{Weekdays: []string{"sunday"}, Start: "02:00", End: "04:00"}, at(2026, 11, 29, 4, 0), false},
		{"other weekday", config.Maintenance{Weekdays: []string{"saturday"}, Start: "02:00", End: "04:00"}, at(2026, 11, 29, 3, 0), false},
		{"every day when none listed", config.Maintenance{Start: "02:00", End: "04:00"}, at(2026, 11, 25, 3, 0), true},
		{"in the zone, not UTC", config.Maintenance{Start: "02:00", End: "04:00"}, time.Date(2026, 11, 29, 3, 30, 0, 0, time.UTC), false},
		{"overnight, before midnight", config.Maintenance{Weekdays: []string{"saturday"}, Start: "22:00", End: "02:00"}, at(2026, 11, 28, 23, 0), true},
		{"overnight, after midnight on the next day", config.Maintenance{Weekdays: []string{"saturday"}, Start: "22:00", End: "02:00"}, at(2026, 11, 29, 1, 59), true},
		{"overnight belongs to the start day", config.Maintenance{Weekdays: []string{"sunday"}, Start: "22:00", End: "02:00"}, at(2026, 11, 29, 1, 0), false},
		{"overnight across a month end", config.Maintenance{Weekdays: []string{"monday"}, Start: "23:00", End: "01:00"}, at(2026, 12, 1, 0, 30), true},
		// 2026-03-29: clocks jump from 02:00 to 03:00 in Berlin.
		{"DST spring: window follows local time", config.Maintenance{Start: "01:00", End: "05:00"}, at(2026, 3, 29, 4, 30), true},
		{"DST spring: skipped start moves after the gap", config.Maintenance{Start: "02:30", End: "04:00"}, time.Date(2026, 3, 29, 1, 10, 0, 0, time.UTC), false},
		{"DST spring: after the gap", config.Maintenance{Start: "02:30", End: "04:00"}, at(2026, 3, 29, 3, 40), true},
		// 2026-10-25: clocks fall back from 03:00 to 02:00.
		{"DST autumn: three-hour night", config.Maintenance{Start: "01:00", End: "03:00"}, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.window.Name, tc.window.Matchers, tc.window.TimeZone = "w", []string{`service="api"`}, "Europe/Berlin"
			w, err := newWindow(&tc.window)
			require.NoError(t, err)
			_, ok := w.active(tc.now)
			require.Equal(t, tc.want, ok)
		})
	}
}

func TestNewWindowErrors(t *testing.T) {
	base := config.Maintenance{Name: "w", Matchers: []string{`a="b"`}, Start: "02:00", End: "04:00", TimeZone: "UTC"}
	cases := []struct {
		name   string
		change func(*config.Maintenance)
		want   string
	}{
		{"no matchers", func(m *config.Maintenance) { m.Matchers = nil }, "matchers must list at least one matcher"},
		{"bad weekday", func(m *config.Maintenance) { m.Weekdays = []string{"funday"} }, `weekday "funday"`},
		{"bad start", func(m *config.Maintenance) { m.Start = "2am" }, "start:"},
		{"same start and end", func(m *config.Maintenance) { m.End = "02:00" }, "end equals start"},
		{"bad zone", func(m *config.Maintenance) { m.TimeZone = "Mars/Olympus" }, "time_zone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base
			tc.change(&m)
			cfg := config.Default()
			cfg.Maintenance = []config.Maintenance{m}
			_, err := New(cfg)
			require.ErrorContains(t, err, "maintenance[0] (w): "+tc.want)
		})
	}
}

// p0Source is an open P0 incident for a service.
func p0Source(service string) InhibitSource {
	a := am(map[string]string{"alertname": "CheckoutDown", "service": service, "severity": "critical"})
	return InhibitSource{IncidentID: 7, IncidentKey: "INC-7", Severity: alert.P0, Alert: a}
}

func TestDefaultInhibition(t *testing.T) {
	e, err := New(config.Default())
	require.NoError(t, err)
	type L = map[string]string
	cases := []struct {
		name    string
		target  alert.Alert
		sources []InhibitSource
		want    bool
	}{
		{"P1 of the same service", am(L{"alertname": "CheckoutLatency", "service": "checkout", "severity": "error"}), []InhibitSource{p0Source("checkout")}, true},
		{"P3 of the same service", am(L{"alertname": "Typo", "service": "checkout"}), []InhibitSource{p0Source("checkout")}, true},
		{"other service", am(L{"alertname": "SearchSlow", "service": "search", "severity": "error"}), []InhibitSource{p0Source("checkout")}, false},
		{"a P0 is never inhibited", am(L{"alertname": "CheckoutDown2", "service": "checkout", "severity": "critical"}), []InhibitSource{p0Source("checkout")}, false},
		{"source must be P0", am(L{"alertname": "Typo", "service": "checkout"}),
			[]InhibitSource{func() InhibitSource { s := p0Source("checkout"); s.Severity = alert.P1; return s }()}, false},
		{"resolved source inhibits nothing", am(L{"alertname": "Typo", "service": "checkout"}),
			[]InhibitSource{func() InhibitSource { s := p0Source("checkout"); s.Alert.Status = alert.StatusResolved; return s }()}, false},
		// Unlike Alertmanager: an empty or missing equal label never counts as equal.
		{"missing on both is not equal", am(L{"alertname": "Typo"}), []InhibitSource{p0Source("")}, false},
		{"missing on the target only", am(L{"alertname": "Typo"}), []InhibitSource{p0Source("checkout")}, false},
		{"missing on the source only", am(L{"alertname": "Typo", "service": "checkout"}), []InhibitSource{p0Source("")}, false},
		{"empty on both", am(L{"alertname": "Typo", "service": ""}), []InhibitSource{p0Source("")}, false},
		{"its own incident", am(L{"alertname": "CheckoutDown", "service": "checkout", "severity": "warning"}), []InhibitSource{p0Source("checkout")}, false},
		{"given group key of its own incident", am(L{"alertname": "Other", "service": "checkout", "severity": "warning"}),
			[]InhibitSource{func() InhibitSource {
				s := p0Source("checkout")
				s.GroupKey = `alertname="Other",service="checkout"`
				return s
			}()}, false},
		{"no sources", am(L{"alertname": "Typo", "service": "checkout"}), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := e.Evaluate(&tc.target)
			sup, ok := e.Suppress(&tc.target, &d, t0, nil, tc.sources)
			require.Equal(t, tc.want, ok, "%s: %+v", d.Reason(), sup)
			if tc.want {
				require.Equal(t, KindInhibited, sup.Kind)
				require.Equal(t, "INC-7", sup.ID)
				require.Equal(t, int64(7), sup.IncidentID)
				require.Contains(t, sup.Detail, "inhibited by INC-7 (P0) via p0-mutes-lower-priorities: service=")
			}
		})
	}
}

func TestSuppressOrder(t *testing.T) {
	cfg := config.Default()
	cfg.Maintenance = []config.Maintenance{{Name: "sunday-night", Matchers: []string{`service="checkout"`}, Start: "02:00", End: "04:00", TimeZone: "UTC"}}
	e, err := New(cfg)
	require.NoError(t, err)
	a := am(map[string]string{"alertname": "Typo", "service": "checkout"})
	d := e.Evaluate(&a)
	sources := []InhibitSource{p0Source("checkout")}
	silence, err := ParseSilence(config.Silence{ID: "s1", Matchers: []string{`priority="P2"`, `category="payment"`}, EndsAt: "2026-11-30T00:00:00Z"}, t0)
	require.NoError(t, err)

	sup, ok := e.Suppress(&a, &d, t0, []Silence{silence}, sources)
	require.True(t, ok)
	require.Equal(t, KindSilence, sup.Kind, "silences first; they see the decided priority and category")

	sup, ok = e.Suppress(&a, &d, t0, nil, sources)
	require.True(t, ok)
	require.Equal(t, Suppression{Kind: KindMaintenance, ID: "sunday-night", Detail: "maintenance window sunday-night until 2026-11-29T04:00:00Z"}, sup)

	sup, ok = e.Suppress(&a, &d, t0.Add(2*time.Hour), nil, sources)
	require.True(t, ok)
	require.Equal(t, KindInhibited, sup.Kind, "after the window, inhibition")
}

func TestBadInhibitRuleIsAnError(t *testing.T) {
	cfg := config.Default()
	cfg.Inhibit = []config.InhibitRule{{Name: "x", SourceMatchers: []string{`priority="P0"`}}}
	_, err := New(cfg)
	require.ErrorContains(t, err, `inhibit rule "x": target_matchers must list at least one matcher`)
}

// A service-less outage P0 must not mute an unrelated alert that also has
// no service: it opens its own incident and pages.
func TestServicelessP0InhibitsNothing(t *testing.T) {
	e, err := New(config.Default())
	require.NoError(t, err)
	outage := am(map[string]string{"alertname": "NetworkPartition", "category": "outage"})
	src := InhibitSource{IncidentID: 1, IncidentKey: "INC-1", Severity: e.Evaluate(&outage).Severity, Alert: outage}
	require.Equal(t, alert.P0, src.Severity)
	require.False(t, e.CanInhibit(&src), "without a service it can inhibit nothing")
	withService := p0Source("checkout")
	require.True(t, e.CanInhibit(&withService))

	cert := am(map[string]string{"alertname": "CertificateExpiringSoon", "severity": "warning"})
	d := e.Evaluate(&cert)
	require.Equal(t, alert.P2, d.Severity)
	sup, ok := e.Suppress(&cert, &d, t0, nil, []InhibitSource{src})
	require.False(t, ok, "inhibited: %+v", sup)
}

// The inhibition key: only a source with the target's key can inhibit it,
// so the store hands Suppress only those.
func TestInhibitKeys(t *testing.T) {
	type L = map[string]string
	rule := func(equal ...string) config.InhibitRule {
		return config.InhibitRule{SourceMatchers: []string{`priority="P0"`}, TargetMatchers: []string{`priority=~"P1|P2|P3"`}, Equal: equal}
	}
	cases := []struct {
		name          string
		rules         []config.InhibitRule
		target        L
		source        L
		indexed, same bool
		emptyTarget   bool
	}{
		{name: "default: by service", rules: []config.InhibitRule{rule("service")}, target: L{"service": "api"}, source: L{"service": "api"}, indexed: true, same: true},
		{name: "other service", rules: []config.InhibitRule{rule("service")}, target: L{"service": "api"}, source: L{"service": "db"}, indexed: true},
		{name: "target without the label: nothing can inhibit it", rules: []config.InhibitRule{rule("service")}, target: L{}, source: L{"service": "api"},
			indexed: true, emptyTarget: true},
		{name: "names shared by every rule", rules: []config.InhibitRule{rule("service", "cluster"), rule("cluster")}, target: L{"service": "a", "cluster": "c"},
			source: L{"service": "b", "cluster": "c"}, indexed: true, same: true},
		{name: "a rule without equal: no index", rules: []config.InhibitRule{rule("service"), rule()}, target: L{"service": "api"}, source: L{"service": "db"}},
		{name: "no rules: no index", target: L{"service": "api"}, source: L{"service": "api"}},
		{name: "values are quoted, not joined ambiguously", rules: []config.InhibitRule{rule("a", "b")}, target: L{"a": "x,", "b": "y"},
			source: L{"a": "x", "b": ",y"}, indexed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Inhibit = tc.rules
			e, err := New(cfg)
			require.NoError(t, err)
			ta := alert.Alert{Labels: tc.target}
			tk, tIdx := e.InhibitTargetKey(&ta, &Decision{Severity: alert.P2})
			sk, sIdx := e.InhibitSourceKey(&InhibitSource{Severity: alert.P0, Alert: alert.Alert{Labels: tc.source}})
			require.Equal(t, tc.indexed, tIdx)
			require.Equal(t, tc.indexed, sIdx)
			if !tc.indexed {
				return
			}
			require.Equal(t, tc.emptyTarget, tk == "")
			require.Equal(t, tc.same, tk == sk && tk != "")
		})
	}
}
