package router_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/rules"
	"github.com/alertgate/alertgate/store"
)

// sent is one message a recording target received.
type sent struct {
	Target string
	Kind   notify.MessageKind
	Step   string
	At     time.Duration // since the scenario start
}

type recorder struct {
	mu    sync.Mutex
	start time.Time
	clk   *clocktest.Clock
	msgs  []sent
	keys  map[string]int
	fail  map[string][]error // target → errors to return, in order
	// onSend, when set, sees every message delivered.
	onSend func(m *notify.Message)
}

func (r *recorder) notifier(name string) notify.Notifier {
	return notify.NotifierFunc(func(_ context.Context, m *notify.Message) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if errs := r.fail[name]; len(errs) > 0 {
			r.fail[name] = errs[1:]
			if errs[0] != nil {
				return errs[0]
			}
		}
		r.keys[m.IdempotencyKey]++
		if r.onSend != nil {
			r.onSend(m)
		}
		r.msgs = append(r.msgs, sent{Target: name, Kind: m.Kind, Step: m.Step, At: r.clk.Now().Sub(r.start)})
		return nil
	})
}

// take returns and forgets what was sent so far, sorted.
func (r *recorder) take() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	sort.Slice(out, func(i, j int) bool {
		if out[i].Target != out[j].Target {
			return out[i].Target < out[j].Target
		}
		return out[i].Step < out[j].Step
	})
	return out
}

type harness struct {
	t *testing.T
	// wrap, when set, wraps each target's notifier (set it, then restart).
	wrap func(name string, n notify.Notifier) notify.Notifier
	// reg, when set, receives the engine's metrics (set it, then restart).
	reg  *prometheus.Registry
	cfg  *config.Config
	path string
	// dsn, when set, is the PostgreSQL database used instead of path.
	dsn string
	clk *clocktest.Clock
	st  *store.Store
	eng *router.Engine
	rec *recorder
}

func newHarness(t *testing.T, mutate func(*config.Config)) *harness {
	t.Helper()
	return newHarnessOn(t, "", mutate)
}

// newHarnessOn is newHarness on the PostgreSQL database dsn (SQLite when
// dsn is empty).
func newHarnessOn(t *testing.T, dsn string, mutate func(*config.Config)) *harness {
	t.Helper()
	cfg := config.Default()
	cfg.Targets = []config.Target{{Name: "pager", Type: "webhook", Settings: &webhook.Settings{URL: "http://pager.invalid/"}}}
	for _, role := range []string{"oncall", "team-lead", "eng-manager", "cto"} {
		cfg.Roles[role] = config.Role{Targets: []string{"pager"}}
	}
	cfg.Communication.Channels = []config.Channel{
		{Name: "#incidents", Severities: []string{"P0", "P1"}, Targets: []string{"chat"}},
		{Name: "#alerts", Severities: []string{"P2", "P3"}, Targets: []string{"chat"}},
	}
	cfg.Targets = append(cfg.Targets, config.Target{Name: "chat", Type: "webhook", Settings: &webhook.Settings{URL: "http://chat.invalid/"}})
	if mutate != nil {
		mutate(cfg)
	}
	cfg.ApplyDefaults() // as Load does: the built-in log target, each target's defaults
	clk := clocktest.New(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	rec := &recorder{start: clk.Now(), clk: clk, keys: map[string]int{}, fail: map[string][]error{}}
	h := &harness{t: t, clk: clk, rec: rec, cfg: cfg, path: filepath.Join(t.TempDir(), "r.db"), dsn: dsn}
	h.open()
	return h
}

// open (re)opens the store and a new engine on the harness's database, as
// a restarted process would.
func (h *harness) open() {
	h.t.Helper()
	eng, err := rules.New(h.cfg)
	require.NoError(h.t, err)
	opts := store.Options{Now: h.clk.Now, Classifier: eng, Planner: router.NewPlanner(h.cfg), ReopenWithin: h.cfg.Dedup.ReopenWithin.D(),
		Flapping: router.FlappingPolicy(h.cfg)}
	var st *store.Store
	if h.dsn != "" {
		st, err = store.OpenPostgres(context.Background(), h.dsn, opts)
	} else {
		st, err = store.OpenSQLite(context.Background(), h.path, opts)
	}
	require.NoError(h.t, err)
	h.t.Cleanup(func() { st.Close() })
	e := h.engine(st, h.options(st))
	st.SetStepRunner(e.RunOpeningStep) // as the gateway does
	h.st, h.eng = st, e
}

// engine is a new engine of the harness's config on st (the harness's
// store, or a wrapper of it), its targets the recorder's notifiers,
// wrapped by h.wrap when set.
func (h *harness) engine(st router.Store, opts router.Options) *router.Engine {
	h.t.Helper()
	e, err := router.New(h.cfg, st, func(_ *config.Config, tc config.Target) (notify.Notifier, error) {
		n := h.rec.notifier(tc.Name)
		if h.wrap != nil {
			n = h.wrap(tc.Name, n)
		}
		return n, nil
	}, opts)
	require.NoError(h.t, err)
	return e
}

func (h *harness) options(st *store.Store) router.Options {
	o := router.Options{Now: h.clk.Now, Digests: st, Overrides: st}
	if h.reg != nil {
		o.Registry = h.reg
	}
	return o
}

// restart closes the store, as a process that stops, and opens anew.
func (h *harness) restart() {
	h.t.Helper()
	require.NoError(h.t, h.st.Close())
	h.open()
}

func (h *harness) ingest(a alert.Alert) {
	h.t.Helper()
	_, err := h.st.Ingest(context.Background(), []alert.Alert{a})
	require.NoError(h.t, err)
}

// at advances the clock to offset since the start and runs what is due.
func (h *harness) at(offset time.Duration) []sent {
	h.t.Helper()
	h.clk.Advance(offset - h.clk.Now().Sub(h.rec.start))
	require.NoError(h.t, h.eng.RunDue(context.Background()))
	return h.rec.take()
}

func critical(name, svc string) alert.Alert {
	return alert.Alert{Source: "alertmanager", SourceType: "alertmanager", Status: alert.StatusFiring, Fingerprint: name + svc,
		Labels: map[string]string{"alertname": name, "service": svc, "severity": "critical"}, SeverityHint: "critical", Title: name, Service: svc}
}

func TestP0EscalatesPerSeedMatrix(t *testing.T) {
	h := newHarness(t, nil)
	h.ingest(critical("CheckoutDown", "checkout"))

	require.Equal(t, []sent{
		{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents", At: 0},
		{Target: "pager", Kind: notify.KindPage, Step: "oncall#0", At: 0},
	}, h.at(0), "On-Call paged and #incidents told at once")
	require.Empty(t, h.at(4*time.Minute))
	require.Equal(t, []sent{{Target: "pager", Kind: notify.KindPage, Step: "oncall#1", At: 5 * time.Minute}}, h.at(5*time.Minute),
		"On-Call page repeats every 5 minutes until acknowledged")

	_, err := h.st.Acknowledge(context.Background(), 1, "alice", "on it")
	require.NoError(t, err)
	require.Equal(t, []sent{{Target: "pager", Kind: notify.KindAcknowledge, Step: "ack", At: 8 * time.Minute}}, h.at(8*time.Minute))

	require.Empty(t, h.at(10*time.Minute), "no more On-Call repeats after the ack")
	require.Equal(t, []sent{
		{Target: "chat", Kind: notify.KindInfo, Step: "remind#0", At: 15 * time.Minute},
		{Target: "pager", Kind: notify.KindInfo, Step: "remind#0", At: 15 * time.Minute},
	}, h.at(15*time.Minute), "Team Lead stops on acknowledge; no update posted in 15m: #incidents and the responder are reminded")
	got := h.at(30 * time.Minute)
	require.Contains(t, got, sent{Target: "pager", Kind: notify.KindPage, Step: "eng-manager#0", At: 30 * time.Minute},
		"Eng Manager is told while unresolved, ack or not")
	require.Equal(t, []string{"eng-manager#0"}, pages(got))

	_, err = h.st.Resolve(context.Background(), 1, "alice", "rolled back")
	require.NoError(t, err)
	require.Equal(t, []sent{
		{Target: "chat", Kind: notify.KindInfo, Step: "postmortem", At: 50 * time.Minute},
		{Target: "chat", Kind: notify.KindResolve, Step: "resolve", At: 50 * time.Minute},
		{Target: "pager", Kind: notify.KindResolve, Step: "resolve", At: 50 * time.Minute},
	}, h.at(50*time.Minute), "resolve tells the paged targets and #incidents, which also gets the post-mortem draft")
	require.Empty(t, h.at(2*time.Hour), "CTO step cancelled by resolve")

	for k, n := range h.rec.keys {
		require.Equal(t, 1, n, "idempotency key %s delivered once", k)
	}
}

func TestUnackedP0ReachesEveryRole(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Escalation.Matrix[0].Repeat = nil })
	h.ingest(critical("CheckoutDown", "checkout"))
	var steps []string
	for _, off := range []time.Duration{0, 15 * time.Minute, 30 * time.Minute, time.Hour} {
		for _, s := range h.at(off) {
			if s.Kind == notify.KindPage {
				steps = append(steps, fmt.Sprintf("%s@%s", s.Step, s.At))
			}
		}
	}
	require.Equal(t, []string{"oncall#0@0s", "team-lead#0@15m0s", "eng-manager#0@30m0s", "cto#0@1h0m0s"}, steps)
}

func TestDuplicateAlertPagesOnce(t *testing.T) {
	h := newHarness(t, nil)
	a := critical("CheckoutDown", "checkout")
	h.ingest(a)
	require.Len(t, h.at(0), 2)
	h.ingest(a)
	h.ingest(a)
	require.Empty(t, h.at(time.Minute))
}

func TestTemporaryFailureIsRetriedThenDelivered(t *testing.T) {
	h := newHarness(t, nil)
	h.rec.fail["pager"] = []error{
		&notify.DeliveryError{Temporary: true, Reason: notify.ReasonServer, StatusCode: 503, Err: errors.New("unavailable")},
		&notify.DeliveryError{Temporary: true, Reason: notify.ReasonRateLimited, StatusCode: 429, RetryAfter: 30 * time.Second, Err: errors.New("slow down")},
	}
	h.ingest(critical("CheckoutDown", "checkout"))
	require.Equal(t, []sent{{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents"}}, h.at(0))
	require.Empty(t, h.at(1*time.Second), "backoff of about 2s has not passed")
	require.Empty(t, h.at(3*time.Second), "second attempt fails with 429 Retry-After 30s")
	require.Empty(t, h.at(30*time.Second), "Retry-After is honoured")
	got := h.at(34 * time.Second)
	require.Equal(t, []sent{{Target: "pager", Kind: notify.KindPage, Step: "oncall#0", At: 34 * time.Second}}, got)

	d, err := h.st.GetIncident(context.Background(), 1)
	require.NoError(t, err)
	var fails, oks int
	for _, e := range d.Timeline {
		switch e.Kind {
		case alert.EventDeliveryFail:
			fails++
		case alert.EventNotified:
			oks++
		}
	}
	require.Equal(t, 2, fails, "each failed attempt is on the timeline")
	require.GreaterOrEqual(t, oks, 2)
}

func TestPermanentFailureGoesToFallback(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		c.Targets[0].Fallback = "chat"
	})
	h.rec.fail["pager"] = []error{&notify.DeliveryError{Reason: notify.ReasonClient, StatusCode: 400, Err: errors.New("bad")}}
	h.ingest(critical("CheckoutDown", "checkout"))
	require.Equal(t, []sent{
		{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents"},
		{Target: "chat", Kind: notify.KindPage, Step: "oncall#0"},
	}, h.at(0))
	jobs, err := h.st.Jobs(context.Background(), 1)
	require.NoError(t, err)
	states := map[string]string{}
	for _, j := range jobs {
		states[j.Key] = j.State
	}
	require.Equal(t, store.JobDead, states["INC-1/page/oncall#0/pager"])
	require.Equal(t, store.JobDone, states["INC-1/page/oncall#0/pager/fallback:chat"])
}

func TestAckRaceNeverPagesAfterAck(t *testing.T) {
	// Many goroutines run the engine while another acknowledges: no page
	// for a step that stops on ack may be sent by a step that ran after it.
	for round := range 10 {
		h := newHarness(t, nil)
		h.ingest(critical("CheckoutDown", fmt.Sprintf("svc%d", round)))
		h.at(0)
		h.clk.Advance(15 * time.Minute) // on-call repeats and Team Lead now due
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				require.NoError(t, h.eng.RunDue(context.Background()))
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.st.Acknowledge(context.Background(), 1, "alice", "")
			require.NoError(t, err)
		}()
		wg.Wait()
		require.NoError(t, h.eng.RunDue(context.Background()))
		d, err := h.st.GetIncident(context.Background(), 1)
		require.NoError(t, err)
		// After the ack event, no "escalated" event may follow.
		seenAck := false
		for _, e := range d.Timeline {
			if e.Kind == alert.EventAcknowledged {
				seenAck = true
			}
			if seenAck {
				require.NotEqual(t, alert.EventEscalated, e.Kind, "step ran after the ack: %+v", d.Timeline)
			}
		}
		for k, n := range h.rec.keys {
			require.Equal(t, 1, n, "idempotency key %s delivered once", k)
		}
	}
}

func storeFilter() store.IncidentFilter { return store.IncidentFilter{} }

// A page moves the incident's updated_at, so the console's live board
// (which reads incidents changed since its last look) shows whom it paged.
func TestPageMovesTheIncidentsUpdatedAt(t *testing.T) {
	h := newHarness(t, nil)
	h.ingest(critical("CheckoutDown", "checkout"))
	h.at(0)
	h.at(4 * time.Minute) // nothing due: no page, no move
	d, err := h.st.GetIncident(context.Background(), 1)
	require.NoError(t, err)
	require.Equal(t, h.rec.start, d.Incident.UpdatedAt.UTC())

	h.at(15 * time.Minute) // the team lead is paged (and the on-call again)
	d, err = h.st.GetIncident(context.Background(), 1)
	require.NoError(t, err)
	require.Equal(t, h.rec.start.Add(15*time.Minute), d.Incident.UpdatedAt.UTC())
}

// A new incident's first page and announcement are decided in the group
// commit that opens it: its deliveries are written there (no step left for
// a second transaction), with the timeline saying whom it paged, and they
// are sent once.
func TestFirstPageIsWrittenByTheCommitThatOpensTheIncident(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(mutate func(*config.Config)) *harness) {
		ctx := context.Background()
		h := newH(nil)
		txs := h.st.WriteTransactions()
		h.ingest(critical("CheckoutDown", "checkout"))
		require.Equal(t, txs+1, h.st.WriteTransactions(), "one write transaction")
		jobs, err := h.st.Jobs(ctx, 1)
		require.NoError(t, err)
		pending := map[string]string{}
		for _, j := range jobs {
			if j.State == store.JobPending {
				pending[j.Key] = j.Kind
			}
		}
		require.Equal(t, store.KindDelivery, pending["INC-1/page/oncall#0/pager"])
		require.Equal(t, store.KindDelivery, pending["INC-1/announce/#incidents/chat"])
		require.NotContains(t, pending, "INC-1/page/oncall#0", "no step row left to run")
		steps := 0
		for _, kind := range pending {
			if kind == store.KindStep {
				steps++
			}
		}
		require.Equal(t, 1, steps, "the repeat, the later roles, SLA checks and reminders are one row")
		var planned []string
		for _, p := range h.eng.Pending(jobs) {
			if p.Type == "page" {
				planned = append(planned, p.Role+"@"+p.DueAt.Sub(h.rec.start).String())
			}
		}
		require.Equal(t, []string{"oncall@5m0s", "team-lead@15m0s", "eng-manager@30m0s", "cto@1h0m0s"}, planned)
		d, err := h.st.GetIncident(ctx, 1)
		require.NoError(t, err)
		var escalated []string
		for _, ev := range d.Timeline {
			if ev.Kind == alert.EventEscalated {
				escalated = append(escalated, ev.Detail)
			}
		}
		require.Equal(t, []string{"paged oncall (oncall#0) via pager"}, escalated)

		require.Equal(t, []sent{
			{Target: "chat", Kind: notify.KindInfo, Step: "announce:#incidents", At: 0},
			{Target: "pager", Kind: notify.KindPage, Step: "oncall#0", At: 0},
		}, h.at(0))
		require.Empty(t, h.at(time.Minute))
	})
}
