package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

// markdown renders the post-mortem draft: GitHub tables, no raw HTML
// (goldmark leaves it out unless told otherwise) and no dangerous links.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table))

// incidentView is the incident page's body.
type incidentView struct {
	Row        row
	Inc        alert.Incident
	Suppressed *store.Hold
	Held       []string
	Phases     []phaseView
	Alerts     []alertView
	Runbook    *runbookView
	// Plan is what will happen next; HasPlan is false when the console
	// was built without the router.
	Plan       []planStep
	HasPlan    bool
	Deliveries []deliveryView
	Postmortem template.HTML
	// Markdown is the URL of the draft's Markdown download.
	Markdown string
	Auth     authView
	Sevs     []alert.Severity
}

type phaseView struct {
	Name   string
	Events []eventView
}

type eventView struct {
	At, Offset, Kind, Actor, Detail string
}

type alertView struct {
	Title, Status, Fingerprint, Description, Starts string
	// Silence is the silences page with this alert's labels as matchers.
	Silence             string
	Labels, Annotations []kv
	Links               []link
}

type kv struct{ K, V string }

// link is a URL an alert carries; Href is empty when it is not http(s),
// and the page then shows the text without a link.
type link struct{ Name, Href, Text string }

type runbookView struct {
	Name, Title, Href, URL string
	Steps                  []string
}

type planStep struct {
	router.PendingStep
	Due, What string
}

type deliveryView struct {
	Target, Action, State, Error, Due string
	Attempts                          int
}

// incidentOf reads the incident the route's :id names. When there is none
// to show (a bad id, not found, the store failing) it answers the page
// itself and returns nil and the answer's error.
func (c *Console) incidentOf(cctx context.Context, ctx *fiber.Ctx, what string) (*store.IncidentDetail, error) {
	id, ok := alert.ParseIncidentKey(ctx.Params("id"))
	if !ok {
		return nil, c.errorPage(ctx, fiber.StatusBadRequest, "Invalid incident id: want INC-7 or 7.")
	}
	d, err := c.st.GetIncident(cctx, id)
	if err != nil {
		return nil, c.storeError(ctx, what, err)
	}
	if d == nil {
		return nil, c.errorPage(ctx, fiber.StatusNotFound, "Not found.")
	}
	return d, nil
}

// incident handles GET /incidents/:id.
func (c *Console) incident(ctx *fiber.Ctx) error {
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	d, err := c.incidentOf(cctx, ctx, "incident")
	if d == nil {
		return err
	}
	jobs, err := c.st.Jobs(cctx, d.Incident.ID)
	if err != nil {
		return c.storeError(ctx, "incident", err)
	}
	v := c.incidentView(d, jobs)
	if c.plan != nil {
		for _, s := range c.plan(jobs) {
			v.Plan = append(v.Plan, planStep{PendingStep: s, Due: relative(c.now(), s.DueAt), What: s.String()})
		}
	}
	v.HasPlan = c.plan != nil
	v.Auth = c.authView(ctx)
	return c.render(ctx, fiber.StatusOK, "incident.html", d.Incident.Key+" "+d.Incident.Title, v)
}

// incidentView prepares the page of d.
func (c *Console) incidentView(d *store.IncidentDetail, jobs []*store.Job) incidentView {
	now := c.now()
	inc := d.Incident
	v := incidentView{Row: newRow(now, inc, nil), Inc: inc, Suppressed: d.Suppressed, Held: d.Held, Sevs: alert.Severities,
		Markdown: "/incidents/" + inc.Key + "/postmortem.md"}
	byPhase := map[string][]eventView{}
	for _, ev := range d.Timeline {
		ph := router.Phase(ev, &inc)
		byPhase[ph] = append(byPhase[ph], eventView{At: ev.At.UTC().Format(time.RFC3339), Offset: "+" + human(ev.At.Sub(inc.OpenedAt)),
			Kind: string(ev.Kind), Actor: ev.Actor, Detail: ev.Detail})
	}
	for _, name := range router.PhaseNames {
		if evs := byPhase[name]; len(evs) > 0 {
			v.Phases = append(v.Phases, phaseView{Name: name, Events: evs})
		}
	}
	for _, a := range d.Alerts {
		av := newAlertView(a)
		av.Silence = "/silences?" + url.Values{"incident": {inc.Key}, "alert": {a.Fingerprint}}.Encode()
		v.Alerts = append(v.Alerts, av)
	}
	rb := c.runbook(inc.Runbook)
	if rb != nil {
		v.Runbook = &runbookView{Name: rb.Name, Title: rb.Title, Href: safeURL(rb.URL), URL: rb.URL, Steps: rb.Steps}
	} else if inc.Runbook != "" {
		v.Runbook = &runbookView{Name: inc.Runbook, Href: safeURL(inc.Runbook), URL: inc.Runbook}
	}
	for _, j := range jobs {
		if j.Kind != store.KindDelivery {
			continue
		}
		v.Deliveries = append(v.Deliveries, deliveryView{Target: j.Target, Action: j.Action, State: j.State, Error: j.LastError,
			Attempts: j.Attempts, Due: j.DueAt.UTC().Format(time.RFC3339)})
	}
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(router.Postmortem(d, rb, now)), &buf); err != nil {
		c.log.Warn("render post-mortem", zap.String("incident", inc.Key), zap.Error(err))
	}
	// goldmark escapes text and omits raw HTML; the CSP stops the rest.
	v.Postmortem = template.HTML(buf.String()) //nolint:gosec // see above
	return v
}

// runbook is the configured runbook of that name (or URL), or nil.
func (c *Console) runbook(name string) *config.Runbook {
	if c.runbooks == nil || name == "" {
		return nil
	}
	return c.runbooks(name)
}

// postmortem handles GET /incidents/:id/postmortem.md: the post-mortem
// draft as a Markdown download, for whoever may read the console (the
// API's copy needs the API token, which a signed-in browser does not
// send).
func (c *Console) postmortem(ctx *fiber.Ctx) error {
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	d, err := c.incidentOf(cctx, ctx, "post-mortem")
	if d == nil {
		return err
	}
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	ctx.Set(fiber.HeaderContentType, "text/markdown; charset=utf-8")
	ctx.Set(fiber.HeaderContentDisposition, `attachment; filename="`+d.Incident.Key+`-postmortem.md"`)
	return ctx.SendString(router.Postmortem(d, c.runbook(d.Incident.Runbook), c.now()))
}

// linkAnnotations are annotations shown as links besides those ending in
// "_url" or "URL".
var linkAnnotations = []string{"runbook", "dashboard", "panel"}

func newAlertView(a store.StoredAlert) alertView {
	v := alertView{Title: a.Title, Status: string(a.Status), Fingerprint: a.Fingerprint, Description: a.Description,
		Starts: a.StartsAt.UTC().Format(time.RFC3339)}
	if a.SuppressedBy != "" {
		v.Status += " (" + a.SuppressedBy + ")"
	}
	v.Labels = sortedKV(a.Labels)
	if a.GeneratorURL != "" {
		v.Links = append(v.Links, link{Name: "source", Href: safeURL(a.GeneratorURL), Text: a.GeneratorURL})
	}
	for _, p := range sortedKV(a.Annotations) {
		if strings.HasSuffix(p.K, "_url") || strings.HasSuffix(p.K, "URL") || slices.Contains(linkAnnotations, p.K) {
			v.Links = append(v.Links, link{Name: p.K, Href: safeURL(p.V), Text: p.V})
			continue
		}
		v.Annotations = append(v.Annotations, p)
	}
	return v
}

func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// relative is "in 4m 10s" or "4m 10s ago" (due now).
func relative(now, t time.Time) string {
	if t.After(now) {
		return "in " + human(t.Sub(now))
	}
	return fmt.Sprintf("due (%s ago)", human(now.Sub(t)))
}
