package test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
)

// The multi-replica test (issue #6): three gateway processes on one
// PostgreSQL schema, alerts spread over them round-robin with duplicates
// sent to several replicas at the same instant, escalation timers of a few
// seconds, one replica SIGKILLed mid-run. Afterwards every acknowledged
// alert is stored, every group has one incident, and every (incident,
// step, target) reached the sink once (at least once on the wire for the
// deliveries the dead replica held, with one idempotency key).

const (
	replicaCount   = 3
	replicaGroups  = 100 // incidents
	replicaPerGrp  = 14  // distinct alerts per group
	replicaWorkers = 16  // concurrent client units
	replicaVictim  = 1   // the replica that is SIGKILLed
	// replicaSinkDelay is the sink's answer time.
	replicaSinkDelay = 10 * time.Millisecond
)

// replicaMatrix: every P0/P1 step falls due within 4s of the opening. The
// oncall row repeats twice, so oncall#0..#2 page; cto is never paged for
// P1, so P0 incidents expect 6 pages and P1 incidents 5.
const replicaMatrix = `
escalation:
  matrix:
    - { role: oncall, stop_on: acknowledged, repeat: { every: 2s, limit: 2 }, P0: now, P1: now, P2: 2h, P3: 1d }
    - { role: team-lead, stop_on: acknowledged, P0: 1s, P1: 2s, P2: 4h, P3: next-day }
    - { role: eng-manager, stop_on: resolved, P0: 3s, P1: 3s, P2: next-day, P3: weekly }
    - { role: cto, stop_on: resolved, P0: 3s, P1: never, P2: weekly, P3: monthly }
communication:
  channels: []
`

// replicaSteps are the page steps each severity's incident must send.
var replicaSteps = map[int][]string{
	0: {"oncall#0", "oncall#1", "oncall#2", "team-lead#0", "eng-manager#0", "cto#0"},
	1: {"oncall#0", "oncall#1", "oncall#2", "team-lead#0", "eng-manager#0"},
}

func TestReplicasShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three gateway processes")
	}
	begin := time.Now()
	db, schemaDSN := replicaSchema(t)
	sk := newCountingSink(t, replicaSinkDelay)
	dir := t.TempDir()

	// All three start at once: migrations are serialized by the store.
	reps := make([]*child, replicaCount)
	for i := range reps {
		cfg := replicaConfig(t, dir, i, schemaDSN, fmt.Sprintf("%s/hook/r%d", sk.srv.URL, i))
		reps[i] = spawnChild(t, cfg, filepath.Join(dir, fmt.Sprintf("replica-%d.log", i)))
	}
	for _, c := range reps {
		c.waitReady(t)
	}
	t.Logf("3 replicas up in %s", time.Since(begin).Round(time.Millisecond))

	// They see each other: three live, one leader, one config (the files
	// differ only in listen address and sink URL, which the fingerprint
	// leaves out).
	var view struct {
		Replicas []struct {
			Instance string `json:"instance"`
			Leader   bool   `json:"leader"`
		} `json:"replicas"`
		SameConfig bool `json:"same_config"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, reps[2].url+"/api/v1/replicas", &view))
	require.Len(t, view.Replicas, replicaCount)
	leaders := 0
	for _, r := range view.Replicas {
		if r.Leader {
			leaders++
		}
	}
	require.Equal(t, 1, leaders, "one replica holds the periodic-work lease")
	require.True(t, view.SameConfig)

	cl := newReplicaClient(reps)
	units := replicaPlan(rand.New(rand.NewPCG(6, 6)))
	killAt := len(units) * 2 / 5
	work := make(chan replicaUnit)
	killNow := make(chan struct{})
	go func() {
		for i, u := range units {
			if i == killAt {
				close(killNow)
			}
			work <- u
		}
		close(work)
	}()
	var wg sync.WaitGroup
	for range replicaWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				cl.run(u)
			}
		}()
	}
	clientDone := make(chan struct{})
	go func() { wg.Wait(); close(clientDone) }()

	<-killNow
	// Kill the victim while it has pages in flight: the sink holds its
	// requests from now on, without answering, until at least one is
	// held; those pages were sent but the victim can never have recorded
	// them done.
	sk.holdFrom(replicaVictim)
	t.Cleanup(sk.releaseAll)
	for deadline := time.Now().Add(10 * time.Second); len(sk.heldKeys()) == 0; time.Sleep(5 * time.Millisecond) {
		require.False(t, time.Now().After(deadline), "the replica to kill sent no page within 10s")
	}
	var runningAtKill int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM jobs WHERE kind = 'delivery' AND state = 'running'`).Scan(&runningAtKill))
	receivedAtKill := sk.count()
	killMS := time.Now().UnixMilli()
	reps[replicaVictim].kill(t)
	held := sk.heldKeys()
	sk.releaseAll()
	t.Logf("SIGKILL replica %d after %s: %d/%d client units sent, %d deliveries received, %d delivery jobs running just before, %d pages of the victim unanswered: %v",
		replicaVictim, time.Since(begin).Round(time.Millisecond), killAt, len(units), receivedAtKill, runningAtKill, len(held), held)
	<-clientDone
	t.Logf("client done after %s: %s", time.Since(begin).Round(time.Millisecond), cl.summary())

	// Deliveries the victim had claimed are leased to it for the engine's
	// lease (2m, not configurable from outside): any delivery job still
	// running that was claimed (updated_at is the claim time while
	// running) before the kill is one of them, since the live replicas
	// finish a delivery in ~10ms and the client ran for seconds after the
	// kill. (A live replica whose FinishDelivery failed would also leave
	// one: also a legitimate at-least-once re-send, so it stays in the
	// set.) Ending their lease now stands in for waiting two minutes; the
	// claim query takes over expired leases exactly as it would then.
	orphans := map[string]bool{}
	rows, err := db.Query(`UPDATE jobs SET lease_until = 0 WHERE kind = 'delivery' AND state = 'running' AND updated_at < $1 RETURNING key`, killMS)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		orphans[k] = true
	}
	require.NoError(t, rows.Err())
	rows.Close()
	t.Logf("%d deliveries were held by the killed replica (lease ended by the test): %v", len(orphans), sortedKeys(orphans))

	// Every incident's page steps, to the one sink target.
	type incRow struct {
		id       int64
		group    string
		severity int
		alerts   int
	}
	loadIncidents := func() []incRow {
		rows, err := db.Query(`SELECT id, group_key, severity, alert_count FROM incidents ORDER BY id`)
		require.NoError(t, err)
		defer rows.Close()
		var out []incRow
		for rows.Next() {
			var r incRow
			require.NoError(t, rows.Scan(&r.id, &r.group, &r.severity, &r.alerts))
			out = append(out, r)
		}
		require.NoError(t, rows.Err())
		return out
	}
	expectedKeys := func(incs []incRow) map[string]bool {
		want := map[string]bool{}
		for _, inc := range incs {
			for _, step := range replicaSteps[inc.severity] {
				want[fmt.Sprintf("INC-%d/page/%s/sink", inc.id, step)] = true
			}
		}
		return want
	}
	// Wait (polling in the test goroutine) until every expected delivery
	// reached the sink and no page step or delivery is left to do.
	var missing []string
	busy := -1
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := sk.counts()
		missing = missing[:0]
		for k := range expectedKeys(loadIncidents()) {
			if got[k] == 0 {
				missing = append(missing, k)
			}
		}
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM jobs WHERE (kind = 'delivery' AND state IN ('pending', 'running'))
OR (kind = 'step' AND key LIKE '%/page/%' AND state = 'pending')`).Scan(&busy))
		if len(missing) == 0 && busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			t.Fatalf("deliveries did not settle in 30s: %d expected deliveries never reached the sink %v; %d page steps or deliveries still pending or running",
				len(missing), head(missing, 20), busy)
		}
	}
	t.Logf("all expected deliveries received after %s", time.Since(begin).Round(time.Millisecond))

	// The two survivors shut down cleanly (a data race in a child fails
	// its exit status here). Idle keep-alive connections would hold the
	// shutdown up until the server's read timeout.
	cl.hc.CloseIdleConnections()
	for i, c := range reps {
		if i != replicaVictim {
			c.stop(t)
		}
	}

	incs := loadIncidents()
	acked := cl.ackedAlerts()
	t.Run("every acknowledged alert is stored in its group's incident", func(t *testing.T) {
		stored := map[string]string{} // fingerprint -> group key of its incident
		rows, err := db.Query(`SELECT a.fingerprint, COALESCE(i.group_key, '') FROM alerts a LEFT JOIN incidents i ON i.id = a.incident_id WHERE a.source = 'alertmanager'`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var fp, gk string
			require.NoError(t, rows.Scan(&fp, &gk))
			stored[fp] = gk
		}
		require.NoError(t, rows.Err())
		var lost, misfiled []string
		for fp, a := range acked {
			gk, ok := stored[fp]
			switch {
			case !ok:
				lost = append(lost, fp)
			case gk != a.groupKey():
				misfiled = append(misfiled, fmt.Sprintf("%s in %q, want %q", fp, gk, a.groupKey()))
			}
		}
		sort.Strings(lost)
		sort.Strings(misfiled)
		require.Empty(t, lost, "alerts that got a 2xx but are not stored")
		require.Empty(t, misfiled, "alerts attached to another group's incident")
		t.Logf("%d distinct alerts acknowledged, %d stored", len(acked), len(stored))
	})

	t.Run("each group has exactly one incident", func(t *testing.T) {
		groups := map[string]bool{}
		for _, a := range acked {
			groups[a.groupKey()] = true
		}
		perGroup := map[string][]int64{}
		for _, inc := range incs {
			perGroup[inc.group] = append(perGroup[inc.group], inc.id)
		}
		var dup []string
		for g, ids := range perGroup {
			if len(ids) > 1 {
				dup = append(dup, fmt.Sprintf("%s: %v", g, ids))
			}
			require.True(t, groups[g], "incident for group %s that no acknowledged alert belongs to", g)
		}
		sort.Strings(dup)
		require.Empty(t, dup, "groups with more than one incident")
		for g := range groups {
			require.Len(t, perGroup[g], 1, "incidents of group %s", g)
		}
		// Counts kept across replicas: nothing is ever resolved, so an
		// incident counts each of its stored alerts once.
		rows, err := db.Query(`SELECT i.id, i.alert_count, i.firing_count, count(a.id) FROM incidents i LEFT JOIN alerts a ON a.incident_id = i.id
GROUP BY i.id, i.alert_count, i.firing_count HAVING i.alert_count <> count(a.id) OR i.firing_count <> count(a.id) ORDER BY i.id`)
		require.NoError(t, err)
		defer rows.Close()
		var wrong []string
		for rows.Next() {
			var id, ac, fc, n int64
			require.NoError(t, rows.Scan(&id, &ac, &fc, &n))
			wrong = append(wrong, fmt.Sprintf("INC-%d: alert_count %d, firing_count %d, %d alerts", id, ac, fc, n))
		}
		require.NoError(t, rows.Err())
		require.Empty(t, wrong, "incident counters that lost or doubled an update")

		// The timeline names each alert once, when it opened the incident
		// ("detected") or joined it ("alert_added").
		rows2, err := db.Query(`SELECT incident_id, kind, detail FROM events WHERE kind IN ('detected', 'alert_added') ORDER BY id`)
		require.NoError(t, err)
		defer rows2.Close()
		seen := map[string][]string{}
		for rows2.Next() {
			var id int64
			var kind, detail string
			require.NoError(t, rows2.Scan(&id, &kind, &detail))
			for _, fp := range timelineFingerprints(kind, detail) {
				seen[fp] = append(seen[fp], fmt.Sprintf("INC-%d %s %q", id, kind, detail))
			}
		}
		require.NoError(t, rows2.Err())
		var twice []string
		for fp, evs := range seen {
			if len(evs) > 1 {
				twice = append(twice, fmt.Sprintf("%s: %v", fp, evs))
			}
		}
		sort.Strings(twice)
		require.Empty(t, head(twice, 10), "alerts that joined their incident more than once (%d)", len(twice))
		t.Logf("%d groups, %d incidents", len(groups), len(incs))
	})

	t.Run("every page step ran once", func(t *testing.T) {
		want := map[string]bool{}
		for _, inc := range incs {
			for _, step := range replicaSteps[inc.severity] {
				if step == "oncall#0" {
					// The first page runs in the group commit that opens
					// the incident: its deliveries (checked above) and its
					// timeline entry are what it leaves, not a step row.
					continue
				}
				want[fmt.Sprintf("INC-%d/page/%s", inc.id, step)] = true
			}
		}
		jobs := queryJobs(t, db, `kind = 'step' AND key LIKE '%/page/%'`)
		var bad []string
		for _, j := range jobs {
			if !want[j.key] || j.state != "done" || j.attempts != 1 {
				bad = append(bad, fmt.Sprintf("%s %s attempts=%d expected=%v", j.key, j.state, j.attempts, want[j.key]))
			}
		}
		require.Empty(t, bad, "page steps not run exactly once")
		require.Len(t, jobs, len(want), "page step jobs")

		// The timeline says the same: one "escalated" event per step.
		rows2, err := db.Query(`SELECT incident_id, detail, count(*) FROM events WHERE kind = 'escalated' GROUP BY incident_id, detail HAVING count(*) > 1`)
		require.NoError(t, err)
		defer rows2.Close()
		var twice []string
		for rows2.Next() {
			var id, n int64
			var detail string
			require.NoError(t, rows2.Scan(&id, &detail, &n))
			twice = append(twice, fmt.Sprintf("INC-%d %q x%d", id, detail, n))
		}
		require.NoError(t, rows2.Err())
		require.Empty(t, twice, "escalation steps on the timeline more than once")
		var events int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'escalated'`).Scan(&events))
		require.Equal(t, len(want)+len(incs), events, "escalated events (the first pages' too)")
	})

	t.Run("each delivery reached the sink once", func(t *testing.T) {
		want := expectedKeys(incs)
		got := sk.counts()
		var never, unexpected, dups, badDups []string
		for k := range want {
			if got[k] == 0 {
				never = append(never, k)
			}
		}
		raw := 0
		for k, n := range got {
			raw += n
			if !want[k] {
				unexpected = append(unexpected, k)
			}
			if n > 1 {
				dups = append(dups, fmt.Sprintf("%s x%d", k, n))
				// Only a delivery the victim held can go out again: the
				// victim may have sent it before dying, and another
				// replica sends it, same key, once its lease is over.
				// Once each, so at most twice.
				if !orphans[k] || n > 2 {
					badDups = append(badDups, fmt.Sprintf("%s x%d (held by the killed replica: %v)", k, n, orphans[k]))
				}
			}
		}
		sort.Strings(never)
		sort.Strings(unexpected)
		sort.Strings(dups)
		sort.Strings(badDups)
		require.Empty(t, never, "deliveries never received")
		require.Empty(t, unexpected, "deliveries nobody planned")
		require.Empty(t, badDups, "deliveries received more than once that the killed replica did not hold")
		require.LessOrEqual(t, len(dups), len(orphans))
		t.Logf("%d raw receptions, %d distinct keys, %d expected; %d keys received twice (the killed replica held %d): %v",
			raw, len(got), len(want), len(dups), len(orphans), dups)

		// The pages the victim sent but never had answered are ones it
		// held, and a survivor sent them again: received exactly twice.
		for _, k := range held {
			require.True(t, orphans[k], "unanswered page %s of the killed replica is not a running job claimed before the kill", k)
			require.Equal(t, 2, got[k], "receptions of %s, sent by the killed replica just before the kill", k)
			var from []int
			for _, r := range sk.all() {
				if r.header == k {
					from = append(from, r.replica)
				}
			}
			require.Len(t, from, 2)
			if len(from) == 2 {
				require.Equal(t, replicaVictim, from[0], "%s first sent by", k)
				require.NotEqual(t, replicaVictim, from[1], "%s sent again by", k)
			}
		}

		// Each reception is what its key says, and the header matches; a
		// body cut off is one the killed replica was writing.
		for _, r := range sk.all() {
			if r.cut {
				require.Equal(t, replicaVictim, r.replica, "a cut-off request of %s", r.header)
				continue
			}
			require.Equal(t, r.header, r.body.IdempotencyKey, "Idempotency-Key header and body")
			require.Equal(t, fmt.Sprintf("%s/page/%s/sink", r.body.Incident.ID, r.body.Step), r.header)
			require.True(t, strings.HasPrefix(r.body.Step, r.body.Role+"#"), "step %s of role %s", r.body.Step, r.body.Role)
			require.Equal(t, "page", r.body.Kind)
		}

		// In the jobs table: every sink delivery done; claimed once, or
		// twice for the ones the victim held.
		var bad []string
		jobs := queryJobs(t, db, `kind = 'delivery'`)
		for _, j := range jobs {
			limit := 1
			if orphans[j.key] {
				limit = 2
			}
			if j.state != "done" || j.attempts > limit || !want[j.key] {
				bad = append(bad, fmt.Sprintf("%s %s attempts=%d held-by-victim=%v", j.key, j.state, j.attempts, orphans[j.key]))
			}
		}
		sort.Strings(bad)
		require.Empty(t, bad, "delivery jobs not done in one claim")
		require.Len(t, jobs, len(want), "delivery jobs")
	})

	t.Run("live replicas answered every request", func(t *testing.T) {
		// Connection errors are expected from the killed replica only;
		// any HTTP error status is a finding.
		require.Empty(t, cl.httpErrors(), "non-2xx answers")
		require.Empty(t, cl.liveConnErrors(replicaVictim), "connection errors from replicas that were not killed")
		require.Empty(t, cl.unacked(), "sends that no replica accepted in 4 attempts")
	})
	t.Logf("total %s", time.Since(begin).Round(time.Millisecond))
}

// replicaSchema creates a fresh schema, dropped at cleanup, and returns a
// handle on it and the DSN that selects it.
func replicaSchema(t *testing.T) (*sql.DB, string) {
	t.Helper()
	schemaDSN := postgresSchemaDSN(t, "replicas")
	db, err := sql.Open("pgx", schemaDSN)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db, schemaDSN
}

// replicaConfig writes replica i's config: the issue's config on
// PostgreSQL, listening on a port of its choosing, every role paged
// through the sink.
func replicaConfig(t *testing.T, dir string, i int, dsn, sinkURL string) string {
	t.Helper()
	cfg := strings.Replace(issueConfig, `listen: "127.0.0.1:8080"`, `listen: "127.0.0.1:0"`, 1)
	cfg = onPostgres(t, cfg, dsn)
	cfg = strings.Replace(cfg, "http://127.0.0.1:9999/hook", sinkURL, 1)
	require.Contains(t, cfg, sinkURL)
	path := filepath.Join(dir, fmt.Sprintf("replica-%d.yml", i))
	require.NoError(t, os.WriteFile(path, []byte(cfg+replicaMatrix), 0o600))
	return path
}

// logExcerpt is a child log's warnings, errors and races (at most 80
// lines) and its last 40 lines.
func logExcerpt(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var notable, all []string
	inRace := false // a race report is kept whole, up to its closing line
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		all = append(all, l)
		switch {
		case strings.Contains(l, "WARNING: DATA RACE"):
			inRace = true
			notable = append(notable, l)
		case inRace:
			notable = append(notable, l)
			inRace = !strings.HasPrefix(l, "==================")
		case len(notable) < 80 && (strings.Contains(l, "\tWARN\t") || strings.Contains(l, "\tERROR\t") || strings.Contains(l, "panic")):
			notable = append(notable, l)
		}
	}
	if len(all) > 40 {
		all = all[len(all)-40:]
	}
	return "-- warnings and errors:\n" + strings.Join(notable, "\n") + "\n-- last lines:\n" + strings.Join(all, "\n")
}

// countingSink records every request a webhook target sends, with its
// Idempotency-Key header and the replica that sent it (each replica's
// target URL ends in /r<replica>), and answers 200 after a short delay. It
// can hold one replica's requests unanswered (holdFrom).
type countingSink struct {
	mu      sync.Mutex
	got     []reception
	hold    int // the replica whose requests are held, -1: none
	held    []string
	release chan struct{}
	srv     *httptest.Server
}

type reception struct {
	header  string
	replica int
	body    hook
	// cut: the request's body ended early (its sender was killed
	// while writing it).
	cut bool
}

func newCountingSink(t *testing.T, delay time.Duration) *countingSink {
	s := &countingSink{hold: -1}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, rerr := io.ReadAll(r.Body)
		var h hook
		if err := json.Unmarshal(b, &h); err != nil && rerr == nil {
			t.Errorf("sink: undecodable body %q", b)
		}
		rep := -1
		if _, err := fmt.Sscanf(r.URL.Path, "/hook/r%d", &rep); err != nil {
			t.Errorf("sink: unexpected path %s", r.URL.Path)
		}
		key := r.Header.Get("Idempotency-Key")
		s.mu.Lock()
		s.got = append(s.got, reception{header: key, replica: rep, body: h, cut: rerr != nil})
		var wait chan struct{}
		if rep == s.hold {
			s.held = append(s.held, key)
			wait = s.release
		}
		s.mu.Unlock()
		if wait != nil {
			<-wait
		} else {
			time.Sleep(delay)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// holdFrom makes requests from replica r wait for releaseAll.
func (s *countingSink) holdFrom(r int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.held, s.release = r, nil, make(chan struct{})
}

func (s *countingSink) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold >= 0 {
		close(s.release)
		s.hold = -1
	}
}

// heldKeys are the keys of the requests held since holdFrom.
func (s *countingSink) heldKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.held...)
}

func (s *countingSink) all() []reception {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]reception(nil), s.got...)
}

func (s *countingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// counts is the number of receptions per Idempotency-Key.
func (s *countingSink) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, r := range s.got {
		out[r.header]++
	}
	return out
}

// replicaAlert is one distinct Alertmanager alert of the run.
type replicaAlert struct {
	group    int
	fp       string
	instance string
	severity string
	startsAt string
}

func (a replicaAlert) name() string    { return fmt.Sprintf("ReplicaGate%03d", a.group) }
func (a replicaAlert) service() string { return fmt.Sprintf("svc%03d", a.group) }
func (a replicaAlert) groupKey() string {
	return fmt.Sprintf(`alertname=%q,service=%q`, a.name(), a.service())
}

// replicaUnit is posts the client starts at the same instant, each to
// another replica (round-robin from a shared counter).
type replicaUnit struct {
	order float64
	posts [][]replicaAlert
}

// replicaPlan lays out the run: groups open one after another over the
// first half; each opens with three different alerts of the group posted
// to the three replicas at once (a grouping race), then its other alerts
// follow in batches of 1–3 posted to 1–3 replicas at once (duplicates),
// and a third of the batches are posted again later (Alertmanager's
// repeat notifications).
func replicaPlan(rng *rand.Rand) []replicaUnit {
	var units []replicaUnit
	start := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	for g := range replicaGroups {
		sev := "critical"
		if g%3 == 2 {
			sev = "P1"
		}
		var alerts []replicaAlert
		for k := range replicaPerGrp {
			alerts = append(alerts, replicaAlert{group: g, fp: fmt.Sprintf("%08x%08x", g, k), instance: fmt.Sprintf("host-%d", k), severity: sev, startsAt: start})
		}
		open := 0.5 * float64(g) / replicaGroups
		units = append(units, replicaUnit{order: open, posts: [][]replicaAlert{{alerts[0]}, {alerts[1]}, {alerts[2]}}})
		rest := alerts[3:]
		for len(rest) > 0 {
			n := min(1+rng.IntN(3), len(rest))
			batch := rest[:n]
			rest = rest[n:]
			d := 1 + rng.IntN(3)
			u := replicaUnit{order: open + 0.5*rng.Float64()}
			for range d {
				u.posts = append(u.posts, batch)
			}
			units = append(units, u)
			if rng.IntN(3) == 0 {
				units = append(units, replicaUnit{order: u.order + 0.3*rng.Float64(), posts: [][]replicaAlert{batch}})
			}
		}
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].order < units[j].order })
	return units
}

// replicaClient posts alerts round-robin over the replicas; a post that
// fails goes to the next replica, as a load balancer would retry it.
type replicaClient struct {
	reps []*child
	hc   *http.Client
	rr   atomic.Uint64

	mu       sync.Mutex
	acked    map[string]replicaAlert
	attempts [replicaCount]map[string]int // per replica: "200", "conn", ...
	httpErrs []string
	connErrs [replicaCount][]string
	failed   []string
	requests int
}

func newReplicaClient(reps []*child) *replicaClient {
	c := &replicaClient{reps: reps, acked: map[string]replicaAlert{},
		hc: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for i := range c.attempts {
		c.attempts[i] = map[string]int{}
	}
	return c
}

func (c *replicaClient) run(u replicaUnit) {
	base := int(c.rr.Add(uint64(len(u.posts))))
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i, batch := range u.posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			c.post(batch, (base+i)%replicaCount)
		}()
	}
	close(gate)
	wg.Wait()
}

func (c *replicaClient) post(batch []replicaAlert, first int) {
	body := amBody(batch)
	for try := range 4 {
		r := (first + try) % replicaCount
		req, _ := http.NewRequest(http.MethodPost, c.reps[r].url+"/api/v1/alerts/alertmanager", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			c.note(r, "conn", func() { c.connErrs[r] = append(c.connErrs[r], err.Error()) })
			continue
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			c.note(r, fmt.Sprint(resp.StatusCode), func() {
				for _, a := range batch {
					c.acked[a.fp] = a
				}
			})
			return
		}
		c.note(r, fmt.Sprint(resp.StatusCode), func() {
			c.httpErrs = append(c.httpErrs, fmt.Sprintf("replica %d: %d %s", r, resp.StatusCode, answer))
		})
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	c.failed = append(c.failed, batch[0].fp)
	c.mu.Unlock()
}

func (c *replicaClient) note(r int, outcome string, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.attempts[r][outcome]++
	fn()
}

func (c *replicaClient) ackedAlerts() map[string]replicaAlert {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]replicaAlert, len(c.acked))
	for k, v := range c.acked {
		out[k] = v
	}
	return out
}

func (c *replicaClient) httpErrors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return head(c.httpErrs, 20)
}

func (c *replicaClient) liveConnErrors(victim int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for r, errs := range c.connErrs {
		if r != victim {
			out = append(out, head(errs, 10)...)
		}
	}
	return out
}

func (c *replicaClient) unacked() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return head(c.failed, 20)
}

func (c *replicaClient) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d requests, %d distinct alerts acknowledged; per replica %v", c.requests, len(c.acked), c.attempts)
}

// amBody is an Alertmanager v4 webhook notification carrying batch.
func amBody(batch []replicaAlert) []byte {
	type amWire struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    string            `json:"startsAt"`
		EndsAt      string            `json:"endsAt"`
		Fingerprint string            `json:"fingerprint"`
	}
	n := struct {
		Version  string   `json:"version"`
		Status   string   `json:"status"`
		Receiver string   `json:"receiver"`
		GroupKey string   `json:"groupKey"`
		Alerts   []amWire `json:"alerts"`
	}{Version: "4", Status: "firing", Receiver: "gw", GroupKey: "{}:{alertname=\"" + batch[0].name() + "\"}"}
	for _, a := range batch {
		n.Alerts = append(n.Alerts, amWire{Status: "firing",
			Labels:      map[string]string{"alertname": a.name(), "service": a.service(), "instance": a.instance, "severity": a.severity},
			Annotations: map[string]string{}, StartsAt: a.startsAt, EndsAt: "0001-01-01T00:00:00Z", Fingerprint: a.fp})
	}
	b, err := json.Marshal(n)
	if err != nil {
		panic(err) // plain structs
	}
	return b
}

// timelineFingerprints are the alerts a detected ("alert <fp> (<source>):
// <title>") or alert_added ("<n> alert(s) joined: <fp>, <fp> (+<k> more)")
// event names.
func timelineFingerprints(kind, detail string) []string {
	switch kind {
	case "detected":
		if f := strings.Fields(detail); len(f) > 1 {
			return f[1:2]
		}
	case "alert_added":
		if _, list, ok := strings.Cut(detail, "joined: "); ok {
			list, _, _ = strings.Cut(list, " (+")
			return strings.Split(list, ", ")
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func head(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… %d more", len(s)-n))
	}
	return s
}

type jobRow struct {
	key, state string
	attempts   int
}

// queryJobs reads the jobs matching where.
func queryJobs(t *testing.T, db *sql.DB, where string) []jobRow {
	t.Helper()
	rows, err := db.Query(`SELECT key, state, attempts FROM jobs WHERE ` + where)
	require.NoError(t, err)
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var j jobRow
		require.NoError(t, rows.Scan(&j.key, &j.state, &j.attempts))
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}
