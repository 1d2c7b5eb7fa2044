package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

// fakeOps fakes the store's silence, override, delivery and replica
// operations and the engine's on-call answers, recording changes.
type fakeOps struct {
	silences  []store.Silence
	firing    []store.StoredAlert
	overrides []store.Override
	dead      []store.Delivery
	calls     []string
}

func (f *fakeOps) ListSilences(context.Context) ([]store.Silence, error) { return f.silences, nil }
func (f *fakeOps) CreateSilence(_ context.Context, c config.Silence) (*store.Silence, error) {
	f.calls = append(f.calls, "silence "+strings.Join(c.Matchers, ",")+" by "+c.CreatedBy+" from "+c.StartsAt+" until "+c.EndsAt)
	return &store.Silence{}, nil
}
func (f *fakeOps) ExpireSilence(_ context.Context, id string) error {
	f.calls = append(f.calls, "expire "+id)
	return nil
}
func (f *fakeOps) FiringAlerts(context.Context, int) ([]store.StoredAlert, error) {
	return f.firing, nil
}
func (f *fakeOps) OnCallNow() []router.OnCall {
	return []router.OnCall{{Role: "oncall", Member: "alice", Targets: []string{"alice-phone"}, Source: "rotation", Until: t0.Add(time.Hour),
		Next: &router.OnCall{Role: "oncall", Member: "bob"}}}
}
func (f *fakeOps) Schedule(from, to time.Time) map[string][]router.Shift {
	return map[string][]router.Shift{"oncall": {
		{Start: from, End: from.Add(time.Hour), OnCall: router.OnCall{Member: "alice", Source: "rotation"}},
		{Start: from.Add(time.Hour), End: to, OnCall: router.OnCall{Member: "bob", Source: "rotation"}},
	}}
}
func (f *fakeOps) CheckOverride(o *store.Override) error {
	if o.Role != "oncall" {
		return store.ErrInvalid
	}
	return nil
}
func (f *fakeOps) TargetStates() []router.TargetState {
	return []router.TargetState{{Name: "pager", Type: "webhook", Breaker: "open", Failures: 5, RecentOK: 3, RecentFailed: 5},
		{Name: "chat", Type: "slack", Breaker: "closed"}}
}
func (f *fakeOps) CreateOverride(_ context.Context, o store.Override) (*store.Override, error) {
	f.calls = append(f.calls, "override "+o.Role+" "+o.Member+" by "+o.CreatedBy+" for "+o.EndsAt.Sub(o.StartsAt).String())
	return &o, nil
}
func (f *fakeOps) DeleteOverride(_ context.Context, id string) error {
	f.calls = append(f.calls, "delete override "+id)
	return nil
}
func (f *fakeOps) Overrides() []store.Override { return f.overrides }
func (f *fakeOps) ListDeliveries(context.Context, string, int) ([]store.Delivery, error) {
	return f.dead, nil
}
func (f *fakeOps) RetryDelivery(_ context.Context, id int64, actor string) (*store.Delivery, error) {
	f.calls = append(f.calls, fmt.Sprintf("retry %d by %s", id, actor))
	return &store.Delivery{}, nil
}
func (f *fakeOps) Replicas(context.Context) ([]store.Replica, error) {
	return []store.Replica{{Instance: "gw-1", Version: "1.2", ConfigHash: "abc123", Leader: true, Self: true}}, nil
}

func firingAlert(inc, title, svc string) store.StoredAlert {
	return store.StoredAlert{IncidentKey: inc, Alert: alert.Alert{Title: title, Service: svc, Status: alert.StatusFiring,
		Labels: map[string]string{"alertname": title, "service": svc}}}
}

// signedIn starts a console with every page and signs alice in; get and
// postForm carry her cookie (postForm adds her CSRF token).
func signedIn(t *testing.T, st *fakeStore, ops *fakeOps) (get func(path string) (int, string), postForm func(path string, form url.Values) int) {
	t.Helper()
	cfg := config.Default()
	cfg.Server.ExternalURL = "https://alertgate.example.com/"
	cfg.Sources = []config.Source{
		{Name: "alertmanager", Type: "alertmanager", Auth: config.Auth{BearerToken: "very-secret-token"}},
		{Name: "probes", Type: "healthcheck", Auth: config.Auth{Basic: &config.BasicAuth{Username: "probe", Password: "pw-secret"}}},
	}
	cfg.Maintenance = []config.Maintenance{{Name: "sunday-db", Matchers: []string{`service="db"`}, Weekdays: []string{"sunday"}, Start: "02:00", End: "04:00"}}
	app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: Auth{APIToken: "tok"}, Silences: ops, OnCall: ops, Overrides: ops,
		Deliveries: ops, Replicas: ops, Config: func() *config.Config { return cfg }, Version: "v1.2.3"})
	cookie := sessionCookie(t, post(t, app, "/console/signin", url.Values{"user": {"alice"}, "password": {"tok"}}, ""))
	getc := func(path string) (int, string) {
		code, body, _ := getWith(t, app, path, cookie)
		return code, body
	}
	_, body := getc("/silences")
	csrf := csrfRE.FindStringSubmatch(body)[1]
	return getc, func(path string, form url.Values) int {
		require.Equal(t, 403, post(t, app, path, form, cookie).StatusCode, "no CSRF token: refused")
		form.Set("csrf", csrf)
		return post(t, app, path, form, cookie).StatusCode
	}
}

func getWith(t *testing.T, app *fiber.App, path, cookie string) (int, string, map[string]string) {
	t.Helper()
	return get(t, app, path, "Cookie", cookieName+"="+cookie)
}

func TestSilencesPage(t *testing.T) {
	st := &fakeStore{detail: map[int64]*store.IncidentDetail{7: {Incident: incident(7, alert.P1, alert.IncidentTriggered, t0),
		Alerts: []store.StoredAlert{firingAlert("INC-7", "DiskFull", "db")}}}}
	ops := &fakeOps{
		silences: []store.Silence{{ID: "s-1", Matchers: []string{`service="web"`}, State: "active", Origin: "api", CreatedBy: "bob"},
			{ID: "config-1", Matchers: []string{`env="dev"`}, State: "active", Origin: "config"},
			{ID: "s-0", Matchers: []string{`service="old"`}, State: "expired", Origin: "api"}},
		firing: []store.StoredAlert{firingAlert("INC-7", "DiskFull", "db"), firingAlert("INC-8", "HighLatency", "web"),
			firingAlert("INC-9", "DiskFull", "cache")},
	}
	get, postForm := signedIn(t, st, ops)

	code, body := get("/silences?incident=INC-7")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, "alertname=&#34;DiskFull&#34;\nservice=&#34;db&#34;", "matchers pre-filled from the incident's alert")
	require.Contains(t, body, `data-silence="s-1"`)
	require.Equal(t, 1, strings.Count(body, `data-testid="silence-expire"`), "only the active API silence can be expired")
	require.Contains(t, body, `sunday-db`, "maintenance windows shown read-only")

	// From one alert of an incident: its own labels, from its link on the
	// incident page.
	second := firingAlert("INC-7", "DiskSlow", "db")
	second.Fingerprint, second.Labels["instance"] = "fp-2", "db-2"
	first := firingAlert("INC-7", "DiskFull", "db")
	first.Fingerprint = "fp-1"
	st.detail[7].Alerts = []store.StoredAlert{first, second}
	_, page := get("/incidents/INC-7")
	require.Contains(t, page, `<a href="/silences?alert=fp-2&amp;incident=INC-7" data-testid="silence-alert">`)
	code, body = get("/silences?alert=fp-2&incident=INC-7")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, "alertname=&#34;DiskSlow&#34;\ninstance=&#34;db-2&#34;\nservice=&#34;db&#34;</textarea>", "that alert's labels")
	require.Contains(t, body, "New silence for INC-7, alert DiskSlow")
	code, _ = get("/silences?alert=nope&incident=INC-7")
	require.Equal(t, 404, code)

	for _, tc := range []struct {
		name, matchers string
		code, matched  int
		incidents      []string
	}{
		{"one service", `service="db"`, 200, 1, []string{"INC-7"}},
		{"regex over two", "alertname=\"DiskFull\"\nservice=~\"db|cache\"", 200, 2, []string{"INC-7", "INC-9"}},
		{"none", `service="nope"`, 200, 0, nil},
		{"bad matcher", `service=~"(`, 400, 0, nil},
		{"empty", ``, 400, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get("/console/silences/preview?matchers=" + url.QueryEscape(tc.matchers))
			require.Equal(t, tc.code, code, body)
			var ans previewAnswer
			require.NoError(t, json.Unmarshal([]byte(body), &ans))
			require.Equal(t, tc.matched, ans.Matched)
			var incs []string
			for _, a := range ans.Alerts {
				incs = append(incs, a.Incident)
			}
			require.Equal(t, tc.incidents, incs)
		})
	}

	require.Equal(t, 303, postForm("/silences", url.Values{"matchers": {"service=\"db\"\n"}, "duration": {"2h"}, "comment": {"deploy"}}))
	require.Equal(t, 400, postForm("/silences", url.Values{"matchers": {`service="db"`}, "duration": {"forever"}}))
	// A planned deploy: a pending silence that starts in 3h and lasts 1h.
	require.Equal(t, 303, postForm("/silences", url.Values{"matchers": {`service="db"`}, "starts_in": {"3h"}, "duration": {"1h"}}))
	require.Equal(t, 400, postForm("/silences", url.Values{"matchers": {`service="db"`}, "starts_in": {"-1h"}, "duration": {"1h"}}))
	// A NUL (%00) is refused, not sent to a database that refuses it.
	require.Equal(t, 400, postForm("/silences", url.Values{"matchers": {"service=\"d\x00b\""}, "duration": {"2h"}}))
	require.Equal(t, 400, postForm("/silences", url.Values{"matchers": {`service="db"`}, "duration": {"2h"}, "comment": {"a\x00"}}))
	require.Equal(t, 303, postForm("/silences/s-1/expire", url.Values{}))
	rfc := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	require.Equal(t, []string{`silence service="db" by alice from ` + rfc(0) + ` until ` + rfc(2*time.Hour),
		`silence service="db" by alice from ` + rfc(3*time.Hour) + ` until ` + rfc(4*time.Hour), "expire s-1"}, ops.calls)
}

func TestOnCallDeliveriesAndAboutPages(t *testing.T) {
	ops := &fakeOps{
		overrides: []store.Override{{ID: "o-1", Role: "oncall", Member: "carol", StartsAt: t0, EndsAt: t0.Add(time.Hour)}},
		dead:      []store.Delivery{{ID: 3, Incident: "INC-2", Target: "pager", Action: "page", State: "dead", Attempts: 5, LastError: "HTTP 500"}},
	}
	get, postForm := signedIn(t, &fakeStore{}, ops)

	code, body := get("/oncall")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `<td>oncall</td><td>alice</td><td>rotation</td>`)
	require.Contains(t, body, `data-override="o-1"`)
	require.Contains(t, body, `<strong>bob</strong>`, "the schedule's next shift")
	require.Equal(t, 303, postForm("/oncall/overrides", url.Values{"role": {"oncall"}, "member": {"dave"}, "duration": {"8h"}}))
	require.Equal(t, 400, postForm("/oncall/overrides", url.Values{"role": {"nope"}, "member": {"dave"}, "duration": {"8h"}}), "unknown role")
	require.Equal(t, 303, postForm("/oncall/overrides/o-1/delete", url.Values{}))

	code, body = get("/deliveries")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `<td>HTTP 500</td>`)
	require.Contains(t, body, `<td class="breaker-open">open</td>`)
	require.Contains(t, body, `<td data-testid="target-success">37% (3 of 8 sends)</td>`, "the recent success rate")
	require.Contains(t, body, `<td data-testid="target-success">no sends</td>`)
	require.Equal(t, 303, postForm("/deliveries/3/retry", url.Values{}))
	code, _ = get("/deliveries?state=lost")
	require.Equal(t, 400, code)

	require.Equal(t, []string{"override oncall dave by alice for 8h0m0s", "delete override o-1", "retry 3 by alice"}, ops.calls)

	code, body = get("/about")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `https://alertgate.example.com/api/v1/alerts/alertmanager`)
	require.Contains(t, body, "credentials: &lt;the source&#39;s bearer_token&gt;")
	require.Contains(t, body, "basic auth")
	require.NotContains(t, body, "very-secret-token")
	require.NotContains(t, body, "pw-secret")
	require.Contains(t, body, `data-testid="about-version">v1.2.3<`)
	require.Contains(t, body, `<code>abc123</code>`)
}

// Every state-changing route refuses a request without a session (401),
// and every one refuses everything on a console without sign-in (403).
func TestEveryPostNeedsSession(t *testing.T) {
	routes := []string{"/incidents/INC-1/ack", "/incidents/INC-1/resolve", "/incidents/INC-1/update", "/incidents/INC-1/severity",
		"/silences", "/silences/s-1/expire", "/oncall/overrides", "/oncall/overrides/o-1/delete", "/deliveries/3/retry", "/console/signout"}
	for _, tc := range []struct {
		name string
		auth Auth
		code int
	}{{"sign-in configured", Auth{APIToken: "tok"}, 401}, {"read-only console", Auth{}, 403}} {
		t.Run(tc.name, func(t *testing.T) {
			st, ops := &fakeStore{}, &fakeOps{}
			app := newConsoleWith(t, st, t0, Options{Actions: st, Auth: tc.auth, Silences: ops, OnCall: ops, Overrides: ops, Deliveries: ops})
			for _, r := range routes {
				form := url.Values{"csrf": {"guess"}, "note": {"x"}, "severity": {"P0"}, "matchers": {`a="b"`}, "duration": {"1h"},
					"role": {"oncall"}, "member": {"m"}}
				require.Equal(t, tc.code, post(t, app, r, form, "").StatusCode, r)
			}
			require.Empty(t, st.calls)
			require.Empty(t, ops.calls)
		})
	}
}
