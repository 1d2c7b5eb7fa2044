package console

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/rules"
	"github.com/alertgate/alertgate/store"
)

// Silences manages silences (the store).
type Silences interface {
	ListSilences(ctx context.Context) ([]store.Silence, error)
	CreateSilence(ctx context.Context, c config.Silence) (*store.Silence, error)
	ExpireSilence(ctx context.Context, id string) error
	FiringAlerts(ctx context.Context, limit int) ([]store.StoredAlert, error)
}

// OnCall answers who is on call (the router engine).
type OnCall interface {
	OnCallNow() []router.OnCall
	Schedule(from, to time.Time) map[string][]router.Shift
	CheckOverride(o *store.Override) error
	TargetStates() []router.TargetState
}

// Overrides keeps on-call overrides (the store).
type Overrides interface {
	CreateOverride(ctx context.Context, o store.Override) (*store.Override, error)
	DeleteOverride(ctx context.Context, id string) error
	Overrides() []store.Override
}

// Deliveries lists and retries deliveries (the store).
type Deliveries interface {
	ListDeliveries(ctx context.Context, state string, limit int) ([]store.Delivery, error)
	RetryDelivery(ctx context.Context, id int64, actor string) (*store.Delivery, error)
}

// Replicas lists the gateway processes (the store).
type Replicas interface {
	Replicas(ctx context.Context) ([]store.Replica, error)
}

const (
	maxMatchers    = 20
	maxMatcherLen  = 500
	previewLimit   = 5000
	previewShown   = 50
	scheduleDays   = 14
	maxSilenceSpan = 90 * 24 * time.Hour
)

// --- silences ---

type silencesView struct {
	Active, Pending, Expired []store.Silence
	Maintenance              []config.Maintenance
	// Form pre-fill.
	Matchers, Comment, Duration string
	From                        string
	Auth                        authView
}

// silences handles GET /silences?incident=INC-7: the list and the create
// form, its matchers pre-filled from the incident's first alert.
func (c *Console) silences(ctx *fiber.Ctx) error {
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	list, err := c.sil.ListSilences(cctx)
	if err != nil {
		return c.storeError(ctx, "silences", err)
	}
	v := silencesView{Duration: "2h", Auth: c.authView(ctx)}
	for _, s := range list {
		switch s.State {
		case "active":
			v.Active = append(v.Active, s)
		case "pending":
			v.Pending = append(v.Pending, s)
		default:
			v.Expired = append(v.Expired, s)
		}
	}
	if c.config != nil {
		v.Maintenance = c.config().Maintenance
	}
	if key := ctx.Query("incident"); key != "" {
		id, ok := alert.ParseIncidentKey(key)
		if !ok {
			return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid incident id: want INC-7 or 7.")
		}
		d, err := c.st.GetIncident(cctx, id)
		if err != nil {
			return c.storeError(ctx, "silences", err)
		}
		v.From = d.Incident.Key
		v.Comment = "silenced from " + d.Incident.Key + ": " + d.Incident.Title
		if len(d.Alerts) > 0 {
			v.Matchers = matchersOf(d.Alerts[0].Labels)
		}
		// ?alert=<fingerprint>: that alert's labels, not the first's.
		if fp := ctx.Query("alert"); fp != "" {
			i := slices.IndexFunc(d.Alerts, func(a store.StoredAlert) bool { return a.Fingerprint == fp })
			if i < 0 {
				return c.errorPage(ctx, fiber.StatusNotFound, "No such alert in "+d.Incident.Key+".")
			}
			a := d.Alerts[i]
			v.From = d.Incident.Key + ", alert " + a.Title
			v.Comment = "silenced from " + d.Incident.Key + ": " + a.Title
			v.Matchers = matchersOf(a.Labels)
		}
	}
	return c.render(ctx, fiber.StatusOK, "silences.html", "Silences", v)
}

// matchersOf writes labels as one equality matcher per line.
func matchersOf(labels map[string]string) string {
	var lines []string
	for _, p := range sortedKV(labels) {
		lines = append(lines, p.K+"="+strconv.Quote(p.V))
	}
	return strings.Join(lines, "\n")
}

// parseMatchers splits the form's matchers, one per line.
func parseMatchers(text string) ([]string, error) {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		if len(l) > maxMatcherLen || !utf8.ValidString(l) {
			return nil, fmt.Errorf("a matcher is longer than %d bytes", maxMatcherLen)
		}
		out = append(out, l)
	}
	switch {
	case len(out) == 0:
		return nil, fmt.Errorf("give at least one matcher, e.g. service=\"checkout\"")
	case len(out) > maxMatchers:
		return nil, fmt.Errorf("at most %d matchers", maxMatchers)
	}
	return out, nil
}

// previewAnswer is the body of GET /console/silences/preview.
type previewAnswer struct {
	Error   string         `json:"error,omitempty"`
	Matched int            `json:"matched"`
	Alerts  []previewAlert `json:"alerts"`
}

type previewAlert struct {
	Incident string `json:"incident,omitempty"`
	Title    string `json:"title"`
	Service  string `json:"service,omitempty"`
	// Suppressed says what already suppresses it, if anything.
	Suppressed string `json:"suppressed,omitempty"`
}

// silencePreview handles GET /console/silences/preview?matchers=…: which
// firing alerts the matchers (one per line) would silence, with the same
// matching as silences.
func (c *Console) silencePreview(ctx *fiber.Ctx) error {
	ans := previewAnswer{Alerts: []previewAlert{}}
	ms, err := parseMatchers(ctx.Query("matchers"))
	if err == nil {
		var sil rules.Silence
		now := c.now()
		sil, err = rules.ParseSilence(config.Silence{Matchers: ms, EndsAt: now.Add(time.Hour).Format(time.RFC3339)}, now)
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
			defer cancel()
			var firing []store.StoredAlert
			if firing, err = c.sil.FiringAlerts(cctx, previewLimit); err != nil {
				return c.storeError(ctx, "silence preview", err)
			}
			for i := range firing {
				a := &firing[i]
				if !sil.Matches(&a.Alert) {
					continue
				}
				ans.Matched++
				if len(ans.Alerts) < previewShown {
					ans.Alerts = append(ans.Alerts, previewAlert{Incident: a.IncidentKey, Title: a.Title, Service: a.Service, Suppressed: a.SuppressedBy})
				}
			}
		}
	}
	if err != nil {
		ans.Error = err.Error()
		ctx.Status(fiber.StatusBadRequest)
	}
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.JSON(ans)
}

// createSilence handles POST /silences.
func (c *Console) createSilence(ctx *fiber.Ctx) error {
	if !alert.IsText(ctx.FormValue("matchers")) {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid silence: the matchers hold a NUL byte or invalid UTF-8.")
	}
	ms, err := parseMatchers(ctx.FormValue("matchers"))
	if err != nil {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid silence: "+err.Error())
	}
	d, err := time.ParseDuration(strings.TrimSpace(ctx.FormValue("duration")))
	if err != nil || d <= 0 || d > maxSilenceSpan {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid silence: the duration must be like 30m or 2h, at most 90 days.")
	}
	// Starts in: empty is now; a later start (a planned deploy) makes a
	// pending silence, listed as such until it begins.
	var wait time.Duration
	if v := strings.TrimSpace(ctx.FormValue("starts_in")); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > maxSilenceSpan {
			return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid silence: starts in must be empty (now) or like 30m or 2h, at most 90 days.")
		}
	}
	comment := strings.TrimSpace(ctx.FormValue("comment"))
	if len(comment) > maxNoteLen || !alert.IsText(comment) {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid silence: the comment must be text (no NUL byte, valid UTF-8) of at most 10,000 bytes.")
	}
	start := c.now().Add(wait)
	cs := config.Silence{Matchers: cloneAll(ms), StartsAt: start.Format(time.RFC3339Nano), EndsAt: start.Add(d).Format(time.RFC3339Nano),
		CreatedBy: sessionOf(ctx).user, Comment: strings.Clone(comment), ExpireOnResolve: ctx.FormValue("expire_on_resolve") == "on"}
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	if _, err := c.sil.CreateSilence(cctx, cs); err != nil {
		return c.storeError(ctx, "create silence", err)
	}
	return ctx.Redirect("/silences", fiber.StatusSeeOther)
}

// expireSilence handles POST /silences/:id/expire.
func (c *Console) expireSilence(ctx *fiber.Ctx) error {
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	if err := c.sil.ExpireSilence(cctx, strings.Clone(ctx.Params("id"))); err != nil {
		return c.storeError(ctx, "expire silence", err)
	}
	return ctx.Redirect("/silences", fiber.StatusSeeOther)
}

func cloneAll(s []string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = strings.Clone(s[i])
	}
	return out
}

// --- on-call ---

type oncallView struct {
	Now       []router.OnCall
	Roles     []roleSchedule
	Overrides []store.Override
	RoleNames []string
	Auth      authView
}

type roleSchedule struct {
	Role   string
	Shifts []shiftView
}

type shiftView struct {
	Start, End, Who, Source string
}

// oncall handles GET /oncall: who every role pages now and next, the
// next 14 days, and the overrides.
func (c *Console) oncall(ctx *fiber.Ctx) error {
	now := c.now()
	v := oncallView{Now: c.onc.OnCallNow(), Overrides: c.ovr.Overrides(), Auth: c.authView(ctx)}
	sched := c.onc.Schedule(now, now.Add(scheduleDays*24*time.Hour))
	for role, shifts := range sched {
		rs := roleSchedule{Role: role}
		for _, s := range shifts {
			who := s.Member
			if who == "" {
				who = strings.Join(s.Targets, ", ")
			}
			rs.Shifts = append(rs.Shifts, shiftView{Start: s.Start.UTC().Format("Mon 02 Jan 15:04"), End: s.End.UTC().Format("Mon 02 Jan 15:04"),
				Who: who, Source: s.Source})
		}
		v.Roles = append(v.Roles, rs)
		v.RoleNames = append(v.RoleNames, role)
	}
	// Roles in escalation order, as OnCallNow lists them: the on-call
	// first, so the override form starts at the role overridden most.
	order := map[string]int{}
	for i, oc := range v.Now {
		order[oc.Role] = i
	}
	sort.Slice(v.Roles, func(i, j int) bool { return order[v.Roles[i].Role] < order[v.Roles[j].Role] })
	sort.Slice(v.RoleNames, func(i, j int) bool { return order[v.RoleNames[i]] < order[v.RoleNames[j]] })
	return c.render(ctx, fiber.StatusOK, "oncall.html", "On call", v)
}

// createOverride handles POST /oncall/overrides.
func (c *Console) createOverride(ctx *fiber.Ctx) error {
	d, err := time.ParseDuration(strings.TrimSpace(ctx.FormValue("duration")))
	if err != nil || d <= 0 || d > maxSilenceSpan {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid override: the duration must be like 8h, at most 90 days.")
	}
	var targets []string
	for _, t := range strings.Split(ctx.FormValue("targets"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			targets = append(targets, strings.Clone(t))
		}
	}
	member := strings.Clone(strings.TrimSpace(ctx.FormValue("member")))
	if member == "" || len(member) > maxNameLen || !alert.IsText(member) {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid override: name who is on call (at most 100 characters).")
	}
	now := c.now()
	o := store.Override{Role: strings.Clone(ctx.FormValue("role")), Member: member, Targets: targets, StartsAt: now, EndsAt: now.Add(d),
		CreatedBy: sessionOf(ctx).user}
	if err := c.onc.CheckOverride(&o); err != nil {
		return c.storeError(ctx, "override", err)
	}
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	if _, err := c.ovr.CreateOverride(cctx, o); err != nil {
		return c.storeError(ctx, "override", err)
	}
	return ctx.Redirect("/oncall", fiber.StatusSeeOther)
}

// deleteOverride handles POST /oncall/overrides/:id/delete.
func (c *Console) deleteOverride(ctx *fiber.Ctx) error {
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	if err := c.ovr.DeleteOverride(cctx, strings.Clone(ctx.Params("id"))); err != nil {
		return c.storeError(ctx, "override", err)
	}
	return ctx.Redirect("/oncall", fiber.StatusSeeOther)
}

// --- deliveries ---

type deliveriesView struct {
	State   string
	States  []string
	List    []store.Delivery
	Targets []router.TargetState
	Auth    authView
}

var deliveryStates = []string{"dead", "pending", "running", "done", "cancelled"}

// deliveries handles GET /deliveries?state=dead: the deliveries in a state
// (dead letters by default) and every target's breaker and rate limit.
func (c *Console) deliveries(ctx *fiber.Ctx) error {
	state := ctx.Query("state", "dead")
	if !containsStr(deliveryStates, state) {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Unknown state: want "+strings.Join(deliveryStates, ", ")+".")
	}
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	list, err := c.dlv.ListDeliveries(cctx, state, 200)
	if err != nil {
		return c.storeError(ctx, "deliveries", err)
	}
	v := deliveriesView{State: state, States: deliveryStates, List: list, Auth: c.authView(ctx)}
	if c.onc != nil {
		v.Targets = c.onc.TargetStates()
	}
	return c.render(ctx, fiber.StatusOK, "deliveries.html", "Deliveries", v)
}

// retryDelivery handles POST /deliveries/:id/retry.
func (c *Console) retryDelivery(ctx *fiber.Ctx) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid delivery id.")
	}
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	if _, err := c.dlv.RetryDelivery(cctx, id, sessionOf(ctx).user); err != nil {
		return c.storeError(ctx, "retry delivery", err)
	}
	return ctx.Redirect("/deliveries", fiber.StatusSeeOther)
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// --- sources and about ---

type aboutView struct {
	Sources  []sourceView
	Version  string
	Replicas []store.Replica
	Leader   string
	Hash     string
}

type sourceView struct {
	Name, Type, URL, Auth, Snippet string
}

// about handles GET /about: the sources with their webhook URLs and
// Alertmanager receiver snippets, the version and the replicas.
func (c *Console) about(ctx *fiber.Ctx) error {
	v := aboutView{Version: c.version}
	if c.config != nil {
		cfg := c.config()
		base := strings.TrimRight(cfg.Server.ExternalURL, "/")
		if base == "" {
			base = ctx.BaseURL()
		}
		for _, s := range cfg.Sources {
			sv := sourceView{Name: s.Name, Type: s.Type, URL: base + "/api/v1/alerts/" + url.PathEscape(s.Name)}
			sv.Auth, sv.Snippet = receiverSnippet(s, sv.URL)
			v.Sources = append(v.Sources, sv)
		}
	}
	if c.rep != nil {
		cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
		defer cancel()
		reps, err := c.rep.Replicas(cctx)
		if err != nil {
			return c.storeError(ctx, "about", err)
		}
		v.Replicas = reps
		for _, r := range reps {
			if r.Leader {
				v.Leader = r.Instance
			}
			if r.Self {
				v.Hash = r.ConfigHash
			}
		}
	}
	return c.render(ctx, fiber.StatusOK, "about.html", "Sources and about", v)
}

// receiverSnippet is an Alertmanager receiver for a source: the
// webhook_configs entry with its authentication (secrets as
// placeholders, never their values).
func receiverSnippet(s config.Source, u string) (auth, snippet string) {
	var b strings.Builder
	fmt.Fprintf(&b, "receivers:\n  - name: alertgate-%s\n    webhook_configs:\n      - url: %s\n        send_resolved: true\n", s.Name, strconv.Quote(u))
	switch {
	case s.Auth.BearerToken != "" || s.Auth.BearerTokenFile != "":
		auth = "bearer token"
		b.WriteString("        http_config:\n          authorization:\n            type: Bearer\n            credentials: <the source's bearer_token>\n")
	case s.Auth.Basic != nil:
		auth = "basic auth"
		fmt.Fprintf(&b, "        http_config:\n          basic_auth:\n            username: %s\n            password: <the source's password>\n", strconv.Quote(s.Auth.Basic.Username))
	case s.Auth.HMAC != nil:
		auth = "HMAC signature (Alertmanager cannot sign: put a signing proxy in front, or use a bearer token)"
	default:
		auth = "none"
	}
	if s.Type != "alertmanager" {
		return auth, ""
	}
	return auth, b.String()
}
