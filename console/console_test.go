package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/store"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// fakeStore keeps incidents in memory and filters them as the store does.
type fakeStore struct {
	mu     sync.Mutex
	incs   []alert.Incident
	paged  map[int64][]string
	err    error
	detail map[int64]*store.IncidentDetail
	jobs   map[int64][]*store.Job
	// calls records the actions taken, "ack INC-1 alice: note".
	calls []string
}

func (f *fakeStore) Jobs(_ context.Context, inc int64) ([]*store.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jobs[inc], nil
}

func (f *fakeStore) record(verb string, id int64, actor, note string) (*alert.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %s %s: %s", verb, alert.IncidentKey(id), actor, note))
	return &alert.Incident{}, nil
}

func (f *fakeStore) Acknowledge(_ context.Context, id int64, actor, note string) (*alert.Incident, error) {
	return f.record("ack", id, actor, note)
}

func (f *fakeStore) Resolve(_ context.Context, id int64, actor, note string) (*alert.Incident, error) {
	return f.record("resolve", id, actor, note)
}

func (f *fakeStore) SetSeverity(_ context.Context, id int64, sev alert.Severity, actor, note string) (*alert.Incident, error) {
	return f.record("severity "+sev.String(), id, actor, note)
}

func (f *fakeStore) PostUpdate(_ context.Context, id int64, actor, text string) (*alert.Incident, error) {
	return f.record("update", id, actor, text)
}

func (f *fakeStore) ListIncidents(_ context.Context, flt store.IncidentFilter) ([]alert.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []alert.Incident
	for _, inc := range f.incs {
		switch {
		case flt.Open && !inc.Open(),
			flt.Status != "" && inc.Status != flt.Status,
			flt.Severity != nil && *flt.Severity != inc.Severity,
			flt.Service != "" && flt.Service != inc.Service,
			flt.Text != "" && !strings.Contains(strings.ToLower(inc.Title), strings.ToLower(flt.Text)):
			continue
		}
		out = append(out, inc)
		if flt.Limit > 0 && len(out) == flt.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeStore) GetIncident(_ context.Context, id int64) (*store.IncidentDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.detail[id]; ok {
		return d, nil
	}
	for _, inc := range f.incs {
		if inc.ID == id {
			return &store.IncidentDetail{Incident: inc}, nil
		}
	}
	return nil, fmt.Errorf("incident %d: %w", id, store.ErrNotFound)
}

func (f *fakeStore) IncidentsChangedSince(_ context.Context, since time.Time, _ int) ([]alert.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []alert.Incident
	for _, inc := range f.incs {
		if !inc.UpdatedAt.Before(since) {
			out = append(out, inc)
		}
	}
	return out, nil
}

func (f *fakeStore) Paged(_ context.Context, ids []int64) (map[int64][]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64][]string{}
	for _, id := range ids {
		if p, ok := f.paged[id]; ok {
			out[id] = p
		}
	}
	return out, nil
}

func (f *fakeStore) put(inc alert.Incident) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.incs {
		if f.incs[i].ID == inc.ID {
			f.incs[i] = inc
			return
		}
	}
	f.incs = append(f.incs, inc)
}

func incident(id int64, sev alert.Severity, st alert.IncidentStatus, opened time.Time) alert.Incident {
	inc := alert.Incident{ID: id, Key: alert.IncidentKey(id), Severity: sev, Status: st, Title: fmt.Sprintf("Incident %d", id),
		Service: "checkout", Category: "availability", AlertCount: 2, FiringCount: 1, OpenedAt: opened,
		AckDue: opened.Add(15 * time.Minute), ResolveDue: opened.Add(4 * time.Hour), UpdatedAt: opened}
	switch st {
	case alert.IncidentAcknowledged:
		inc.AcknowledgedAt, inc.AcknowledgedBy = opened.Add(5*time.Minute), "alice"
	case alert.IncidentResolved:
		inc.AcknowledgedAt, inc.AcknowledgedBy = opened.Add(5*time.Minute), "alice"
		inc.ResolvedAt, inc.ResolvedBy = opened.Add(30*time.Minute), "alice"
	}
	return inc
}

func newTestConsole(t testing.TB, st Store, now time.Time) *fiber.App {
	t.Helper()
	c, err := New(st, Options{Now: func() time.Time { return now }, Poll: 5 * time.Millisecond, StreamFor: 60 * time.Millisecond, Version: "test"})
	require.NoError(t, err)
	app := fiber.New()
	c.Register(app)
	return app
}

func get(t *testing.T, app *fiber.App, target string, hdr ...string) (int, string, map[string]string) {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := app.Test(req, 5000)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	h := map[string]string{}
	for k := range resp.Header {
		h[k] = resp.Header.Get(k)
	}
	return resp.StatusCode, string(b), h
}

func TestBoardOrdersRowsAndShowsEveryColumn(t *testing.T) {
	now := t0.Add(20 * time.Minute)
	st := &fakeStore{paged: map[int64][]string{3: {"oncall alice"}, 5: {"oncall", "oncall", "team-lead", "oncall"}}}
	st.put(incident(1, alert.P2, alert.IncidentTriggered, t0))
	st.put(incident(2, alert.P0, alert.IncidentAcknowledged, t0))
	st.put(incident(3, alert.P1, alert.IncidentTriggered, t0.Add(10*time.Minute)))
	st.put(incident(4, alert.P0, alert.IncidentResolved, t0))
	st.put(incident(5, alert.P1, alert.IncidentTriggered, t0.Add(-time.Minute)))
	app := newTestConsole(t, st, now)

	code, body, h := get(t, app, "/")
	require.Equal(t, 200, code)
	// Triggered by severity then age, then acknowledged, then resolved.
	require.Equal(t, []string{"INC-5", "INC-3", "INC-1", "INC-2", "INC-4"}, rowOrder(body))
	for _, want := range []string{
		`<span class="sev sev-p1">P1 High</span>`, // colour class and text
		`href="/incidents/INC-3"`,
		`paged oncall alice</td>`,
		`paged oncall, team-lead</td>`, // each once, however often a repeat paged them
		`ack alice</td>`,
		`1/2 firing`,
		`data-testid="sla-response" data-due="` + fmt.Sprint(t0.Add(25*time.Minute).UnixMilli()) + `">5m 00s left</span>`,
		`<span class="sla breached running" data-testid="sla-response" data-due="` + fmt.Sprint(t0.Add(15*time.Minute).UnixMilli()) + `">breached 5m 00s ago</span>`,
		`data-cursor="` + fmt.Sprint(now.UnixMilli()) + `"`,
	} {
		require.Contains(t, body, want)
	}
	require.Equal(t, csp, h["Content-Security-Policy"])
	require.Equal(t, "DENY", h["X-Frame-Options"])
	require.Equal(t, "nosniff", h["X-Content-Type-Options"])
	require.NotContains(t, body, "<script>", "no inline script")
	require.NotContains(t, body, "style=", "no inline style")
}

func rowOrder(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `data-incident="`)[1:] {
		out = append(out, part[:strings.Index(part, `"`)])
	}
	return out
}

func TestBoardFilters(t *testing.T) {
	st := &fakeStore{}
	st.put(incident(1, alert.P2, alert.IncidentTriggered, t0))
	st.put(incident(2, alert.P0, alert.IncidentAcknowledged, t0))
	st.put(incident(3, alert.P0, alert.IncidentResolved, t0))
	app := newTestConsole(t, st, t0.Add(time.Hour))
	for _, tc := range []struct {
		name, query string
		code        int
		rows        []string
	}{
		{"open", "status=open", 200, []string{"INC-1", "INC-2"}},
		{"open any case", "status=OPEN", 200, []string{"INC-1", "INC-2"}},
		{"resolved", "status=resolved", 200, []string{"INC-3"}},
		{"severity", "severity=critical", 200, []string{"INC-2", "INC-3"}},
		{"text", "q=incident+1", 200, []string{"INC-1"}},
		{"bad status", "status=closed", 400, nil},
		{"bad severity", "severity=P9", 400, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := get(t, app, "/?"+tc.query)
			require.Equal(t, tc.code, code, body)
			require.Equal(t, tc.rows, rowOrder(body))
		})
	}
}

func TestBoardEscapesIncidentText(t *testing.T) {
	st := &fakeStore{paged: map[int64][]string{1: {`<img src=x onerror=alert(1)>`}}}
	inc := incident(1, alert.P0, alert.IncidentTriggered, t0)
	inc.Title = `<script>alert("x")</script>`
	inc.Service = `"><svg onload=alert(1)>`
	st.put(inc)
	app := newTestConsole(t, st, t0)
	_, body, _ := get(t, app, "/?q=")
	require.NotContains(t, body, "<script>alert")
	require.NotContains(t, body, "<svg")
	require.NotContains(t, body, "<img")
	require.Contains(t, body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)
}

func TestStoreFailureIs503Page(t *testing.T) {
	app := newTestConsole(t, &fakeStore{err: fmt.Errorf("%w: db down", store.ErrUnavailable)}, t0)
	code, body, h := get(t, app, "/")
	require.Equal(t, 503, code)
	require.Contains(t, body, "database is not answering")
	require.Equal(t, "5", h["Retry-After"])
	require.NotContains(t, body, "db down", "no internals on the page")
}

func TestAssetsAndPageWeight(t *testing.T) {
	st := &fakeStore{}
	for i := int64(1); i <= 50; i++ {
		st.put(incident(i, alert.Severity(i%4), alert.IncidentTriggered, t0))
	}
	app := newTestConsole(t, st, t0)
	_, page, _ := get(t, app, "/")
	total := len(page)
	for _, tc := range []struct{ name, ctype string }{{"app.js", "javascript"}, {"app.css", "text/css"}} {
		code, body, h := get(t, app, "/console/static/"+tc.name)
		require.Equal(t, 200, code)
		require.Contains(t, h["Content-Type"], tc.ctype)
		require.Equal(t, "nosniff", h["X-Content-Type-Options"])
		total += len(body)
	}
	t.Logf("board of 50 incidents with assets: %d bytes", total)
	require.Less(t, total, 150<<10, "a board of 50 incidents with its assets weighs under 150 KB")
	code, _, _ := get(t, app, "/console/static/../console.go")
	require.Equal(t, 404, code)
}

// sse reads the events of one stream.
func sse(t *testing.T, body string) []map[string]string {
	t.Helper()
	var out []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = map[string]string{}
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, ":") {
			cur[k] = v
		}
	}
	return out
}

func TestEventsPushChangedRows(t *testing.T) {
	st := &fakeStore{}
	st.put(incident(1, alert.P1, alert.IncidentTriggered, t0))
	changed := incident(2, alert.P0, alert.IncidentAcknowledged, t0)
	changed.UpdatedAt = t0.Add(10 * time.Minute)
	st.put(changed)
	gone := incident(3, alert.P0, alert.IncidentResolved, t0)
	gone.UpdatedAt = t0.Add(11 * time.Minute)
	st.put(gone)
	app := newTestConsole(t, st, t0.Add(20*time.Minute))

	code, body, h := get(t, app, "/console/events?status=open&since="+fmt.Sprint(t0.Add(5*time.Minute).UnixMilli()))
	require.Equal(t, 200, code)
	require.Equal(t, "text/event-stream", h["Content-Type"])
	evs := sse(t, body)
	require.Equal(t, "hello", evs[0]["event"])
	var ups []update
	batchStart := evs[0]["id"]
	for _, ev := range evs[1:] {
		if ev["event"] == "cursor" { // the end of a batch: the cursor moves past it
			batchStart = ev["id"]
			continue
		}
		require.Equal(t, "incident", ev["event"])
		require.Equal(t, batchStart, ev["id"], "a row carries its batch's start, so a reconnect mid-batch asks for the whole batch")
		var u update
		require.NoError(t, json.Unmarshal([]byte(ev["data"]), &u))
		ups = append(ups, u)
	}
	require.Len(t, ups, 2, "each change once, though the stream polled many times: %v", ups)
	require.Equal(t, "INC-2", ups[0].ID)
	require.Contains(t, ups[0].HTML, `id="row-INC-2"`)
	require.Equal(t, update{ID: "INC-3", Remove: true}, ups[1], "a resolved incident leaves the open board")
	require.Equal(t, fmt.Sprint(t0.Add(11*time.Minute).UnixMilli()), evs[len(evs)-1]["id"])

	// Reconnecting with Last-Event-ID resumes after it (within the look-back).
	_, body, _ = get(t, app, "/console/events?status=open", "Last-Event-ID", fmt.Sprint(t0.Add(15*time.Minute).UnixMilli()))
	require.Len(t, sse(t, body), 1, "nothing new since the last event: %s", body)

	code, _, _ = get(t, app, "/console/events?since=yesterday")
	require.Equal(t, 400, code)
}

func BenchmarkBoard1000(b *testing.B) {
	st := &fakeStore{paged: map[int64][]string{}}
	for i := int64(1); i <= 1000; i++ {
		st.put(incident(i, alert.Severity(i%4), alert.IncidentStatus([]string{"triggered", "acknowledged"}[i%2]), t0.Add(time.Duration(i)*time.Second)))
		st.paged[i] = []string{"oncall alice"}
	}
	app := newTestConsole(b, st, t0.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := app.Test(httptest.NewRequest("GET", "/?status=open", nil), -1)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err, resp.StatusCode)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		b.ReportMetric(float64(n), "bytes/page")
	}
}

// BenchmarkBoardRender1000 is the server-side work of the board alone:
// reading 1,000 open incidents (from memory) and executing the template.
func BenchmarkBoardRender1000(b *testing.B) {
	st := &fakeStore{paged: map[int64][]string{}}
	for i := int64(1); i <= 1000; i++ {
		st.put(incident(i, alert.Severity(i%4), alert.IncidentStatus([]string{"triggered", "acknowledged"}[i%2]), t0.Add(time.Duration(i)*time.Second)))
		st.paged[i] = []string{"oncall alice"}
	}
	c, err := New(st, Options{Now: func() time.Time { return t0.Add(time.Hour) }})
	require.NoError(b, err)
	f, err := parseFilter(url.Values{"status": {"open"}})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		d, err := c.boardData(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.tmpl.ExecuteTemplate(io.Discard, "board.html", page{Now: t0, Body: d}); err != nil {
			b.Fatal(err)
		}
	}
}
