package console

import (
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/store"
)

// Board limits: open incidents shown (the API's maximum), and recently
// resolved ones shown below them when no status filter is set.
const (
	boardOpenLimit     = 1000
	boardResolvedLimit = 50
	maxFilterLen       = 200
)

// filter is the board's query: the same parameters as GET
// /api/v1/incidents, so a filtered board is a bookmarkable URL.
type filter struct {
	Status   string // "", open, triggered, acknowledged, resolved
	Severity string // "", P0..P3
	Service  string
	Q        string
	sev      *alert.Severity
}

var statuses = []string{"", "open", "triggered", "acknowledged", "resolved"}

// parseFilter reads the board's query; a bad value is an error for a
// 400 page.
func parseFilter(q url.Values) (filter, error) {
	f := filter{Status: strings.ToLower(q.Get("status")), Service: q.Get("service"), Q: q.Get("q")}
	if !slices.Contains(statuses, f.Status) {
		return f, fmt.Errorf("unknown status %q: want open, triggered, acknowledged or resolved", q.Get("status"))
	}
	if v := q.Get("severity"); v != "" {
		sev, err := alert.ParseSeverity(v)
		if err != nil {
			return f, fmt.Errorf("severity: %w", err)
		}
		f.sev, f.Severity = &sev, sev.String()
	}
	for _, v := range []string{f.Service, f.Q} {
		if len(v) > maxFilterLen || !utf8.ValidString(v) {
			return f, fmt.Errorf("service and q must be valid UTF-8 of at most %d bytes", maxFilterLen)
		}
	}
	return f, nil
}

// query is the filter as a URL query ("status=open&q=db"), for links.
func (f filter) query() string {
	v := url.Values{}
	for k, s := range map[string]string{"status": f.Status, "severity": f.Severity, "service": f.Service, "q": f.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// storeFilter is the store's filter for f.
func (f filter) storeFilter() store.IncidentFilter {
	sf := store.IncidentFilter{Severity: f.sev, Service: f.Service, Text: f.Q, Limit: boardOpenLimit}
	switch f.Status {
	case "", "open":
		sf.Open = true
	default:
		sf.Status = alert.IncidentStatus(f.Status)
	}
	return sf
}

// matches reports whether inc belongs on a board filtered by f, as the
// store would decide (the live updates add and remove rows by it).
func (f filter) matches(inc *alert.Incident) bool {
	switch {
	case f.Status == "open" && !inc.Open(),
		f.Status != "" && f.Status != "open" && string(inc.Status) != f.Status,
		f.sev != nil && *f.sev != inc.Severity,
		f.Service != "" && f.Service != inc.Service:
		return false
	}
	if f.Q != "" {
		q := strings.ToLower(f.Q)
		return strings.Contains(strings.ToLower(inc.Title), q) || strings.Contains(strings.ToLower(inc.Service), q) ||
			strings.Contains(strings.ToLower(inc.Category), q)
	}
	return true
}

// row is one incident as the board shows it, every value prepared so
// the template only prints.
type row struct {
	inc                                   alert.Incident
	Key, Title, Service, Category, Status string
	Flapping                              bool
	SevText, SevClass                     string
	OpenedMS                              int64
	OpenedISO, Age                        string
	// Who says whom the incident paged and who acknowledged it.
	Who                  string
	Alerts               string
	Response, Resolution clockCell
	// Head (the <tr>, severity and ID cells), Middle (status and age) and
	// TailCells (alerts and the two clocks) are the board's cells that
	// hold no free incident text, assembled once in Go with every value
	// escaped: the template prints them without running its escapers on
	// each of their many values (1,000 rows stay fast). The template
	// escapes the rest (title, service, category, who).
	Head, Middle, TailCells template.HTML
	// Sort orders the rows (the live updates insert by it): triggered,
	// then acknowledged, by severity then age; resolved last, newest first.
	Sort string
}

// clockCell is an SLA clock as a cell shows it.
type clockCell struct {
	Class, Text string
	// Due is the deadline in Unix ms while the clock runs, else 0.
	Due int64
}

// cell is the clock's table cell, every value escaped.
func (cc clockCell) cell(label, testid string) string {
	var due string
	if cc.Due != 0 {
		due = ` data-due="` + strconv.FormatInt(cc.Due, 10) + `"`
	}
	return `<td data-label="` + label + `"><span class="` + html.EscapeString(cc.Class) + `" data-testid="` + testid + `"` + due + `>` +
		html.EscapeString(cc.Text) + `</span></td>`
}

func newClockCell(now time.Time, k clock) clockCell {
	cc := clockCell{Class: "sla", Text: clockText(now, k)}
	if k.Breached(now) {
		cc.Class += " breached"
	}
	if k.Running() {
		cc.Class += " running"
		cc.Due = k.Due.UnixMilli()
	}
	return cc
}

func newRow(now time.Time, inc alert.Incident, paged []string) row {
	r := row{inc: inc, Key: inc.Key, Title: inc.Title, Service: inc.Service, Category: inc.Category, Status: string(inc.Status),
		Flapping: inc.Flapping, SevText: inc.Severity.String() + " " + inc.Severity.Name(), SevClass: sevClass(inc.Severity),
		OpenedMS: inc.OpenedAt.UnixMilli(), OpenedISO: inc.OpenedAt.UTC().Format(time.RFC3339), Age: human(now.Sub(inc.OpenedAt)),
		Who:        who(paged, inc.AcknowledgedBy),
		Alerts:     fmt.Sprintf("%d/%d firing", inc.FiringCount, inc.AlertCount),
		Response:   newClockCell(now, responseClock(inc)),
		Resolution: newClockCell(now, resolutionClock(inc)),
	}
	rank := 0
	switch inc.Status {
	case alert.IncidentAcknowledged:
		rank = 1
	case alert.IncidentResolved:
		rank = 2
	}
	at := inc.OpenedAt.UnixMilli()
	if rank == 2 {
		at = 1e15 - inc.ResolvedAt.UnixMilli()
	}
	r.Sort = fmt.Sprintf("%d%d%016d%016d", rank, int(inc.Severity), at, inc.ID)
	esc := html.EscapeString
	key, st := esc(r.Key), esc(r.Status)
	r.Head = template.HTML(`<tr id="row-` + key + `" class="st-` + st + `" data-sort="` + esc(r.Sort) + `" data-testid="incident-row" data-incident="` +
		key + `" data-status="` + st + `">` + "\n" +
		`<td data-label="Severity"><span class="sev ` + esc(r.SevClass) + `">` + esc(r.SevText) + `</span></td>` + "\n" +
		`<td data-label="ID" class="id"><a href="/incidents/` + key + `" data-testid="incident-link">` + key + `</a></td>`)
	flapping := ""
	if r.Flapping {
		flapping = ` <span class="tag">flapping</span>`
	}
	r.Middle = template.HTML(`<td data-label="Status"><span class="status">` + st + `</span>` + flapping + "</td>\n" +
		`<td data-label="Age"><span class="age" data-since="` + strconv.FormatInt(r.OpenedMS, 10) + `" title="opened ` +
		esc(r.OpenedISO) + `">` + esc(r.Age) + `</span></td>`)
	r.TailCells = template.HTML(`<td data-label="Alerts">` + esc(r.Alerts) + "</td>\n" +
		r.Response.cell("Response", "sla-response") + "\n" + r.Resolution.cell("Resolution", "sla-resolution"))
	return r
}

// who is the "Paged / acknowledged" cell: "paged oncall alice · ack bob".
// Each one paged is named once, however often a repeat paged them.
func who(paged []string, ackedBy string) string {
	var parts []string
	if len(paged) > 0 {
		var once []string
		for _, p := range paged {
			if !slices.Contains(once, p) {
				once = append(once, p)
			}
		}
		parts = append(parts, "paged "+strings.Join(once, ", "))
	}
	if ackedBy != "" {
		parts = append(parts, "ack "+ackedBy)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " · ")
}

// boardData is the board page's body.
type boardData struct {
	Filter   filter
	Rows     []row
	Statuses []string
	Sevs     []alert.Severity
	// Events is the URL of the live-update stream for this filter.
	Events string
	// Cursor is where the stream starts (Unix ms).
	Cursor int64
	// Truncated is set when more incidents matched than shown.
	Truncated bool
}

// board handles GET /: the incidents board.
func (c *Console) board(ctx *fiber.Ctx) error {
	q, err := url.ParseQuery(string(ctx.Request().URI().QueryString()))
	if err != nil {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid query: "+err.Error())
	}
	f, err := parseFilter(q)
	if err != nil {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid filter: "+err.Error())
	}
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	cursor := c.now()
	d, err := c.boardData(cctx, f)
	if err != nil {
		return c.storeError(ctx, "board", err)
	}
	d.Cursor = cursor.UnixMilli()
	return c.render(ctx, fiber.StatusOK, "board.html", "Incidents", d)
}

// boardData reads the rows of a board filtered by f.
func (c *Console) boardData(ctx context.Context, f filter) (*boardData, error) {
	list, err := c.st.ListIncidents(ctx, f.storeFilter())
	if err != nil {
		return nil, err
	}
	d := &boardData{Filter: f, Statuses: statuses[1:], Sevs: alert.Severities, Truncated: len(list) >= boardOpenLimit}
	if f.Status == "" {
		sf := f.storeFilter()
		sf.Open, sf.Status, sf.Limit = false, alert.IncidentResolved, boardResolvedLimit
		resolved, err := c.st.ListIncidents(ctx, sf)
		if err != nil {
			return nil, err
		}
		list = append(list, resolved...)
	}
	if d.Rows, err = c.rows(ctx, c.now(), list); err != nil {
		return nil, err
	}
	d.Events = "/console/events"
	if qs := f.query(); qs != "" {
		d.Events += "?" + qs
	}
	return d, nil
}

// rows turns incidents into sorted board rows with whom they paged.
func (c *Console) rows(ctx context.Context, now time.Time, list []alert.Incident) ([]row, error) {
	ids := make([]int64, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	paged, err := c.st.Paged(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]row, len(list))
	for i, inc := range list {
		out[i] = newRow(now, inc, paged[inc.ID])
	}
	slices.SortFunc(out, func(a, b row) int { return strings.Compare(a.Sort, b.Sort) })
	return out, nil
}

// storeError answers a store failure: 404 for a missing incident, 400
// for a value refused, 503 while the store can't serve, 500 otherwise.
func (c *Console) storeError(ctx *fiber.Ctx, what string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.errorPage(ctx, fiber.StatusNotFound, "Not found.")
	case errors.Is(err, store.ErrInvalid):
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid: "+err.Error())
	case store.Refused(err):
		c.log.Info("console request refused by the database", zap.String("page", what), zap.Error(err))
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid: the database refused a value of the form.")
	case errors.Is(err, store.ErrConflict):
		return c.errorPage(ctx, fiber.StatusConflict, "Not possible now: "+err.Error())
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		c.log.Warn("console store unavailable", zap.String("page", what), zap.Error(err))
		ctx.Set(fiber.HeaderRetryAfter, "5")
		return c.errorPage(ctx, fiber.StatusServiceUnavailable, "The database is not answering; try again in a few seconds.")
	}
	c.log.Error("console page", zap.String("page", what), zap.Error(err))
	return c.errorPage(ctx, fiber.StatusInternalServerError, "Something went wrong; the gateway log says what.")
}

// clock is one SLA clock as a row shows it.
type clock struct {
	// Due is the deadline; zero when the severity has none.
	Due time.Time
	// Done is when the target was met (acknowledged, resolved); zero
	// while it runs.
	Done time.Time
}

// Running reports whether the clock still counts down.
func (k clock) Running() bool { return !k.Due.IsZero() && k.Done.IsZero() }

// Breached reports whether the target was missed, at now for a running
// clock.
func (k clock) Breached(now time.Time) bool {
	if k.Due.IsZero() {
		return false
	}
	if k.Done.IsZero() {
		return !now.Before(k.Due)
	}
	return k.Done.After(k.Due)
}

func responseClock(inc alert.Incident) clock {
	done := inc.AcknowledgedAt
	if done.IsZero() {
		done = inc.ResolvedAt
	}
	return clock{Due: inc.AckDue, Done: done}
}

func resolutionClock(inc alert.Incident) clock {
	return clock{Due: inc.ResolveDue, Done: inc.ResolvedAt}
}
