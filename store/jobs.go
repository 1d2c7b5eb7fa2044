package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
)

// Job kinds.
const (
	// KindStep is an escalation step: when due, the router decides whom it
	// pages and turns it into deliveries, in one transaction.
	KindStep = "step"
	// KindDelivery is one message to one target.
	KindDelivery = "delivery"
)

// Job states.
const (
	JobPending   = "pending"
	JobRunning   = "running"
	JobDone      = "done"
	JobCancelled = "cancelled"
	JobDead      = "dead"
	// JobHeld is a step kept back while its incident is suppressed
	// (silence, maintenance window); ReleaseHeld makes it pending again.
	JobHeld = "held"
)

// JobSpec is durable work to insert. Key is unique: inserting a key that
// exists does nothing, which is what makes every step page once.
type JobSpec struct {
	Key    string
	Kind   string
	DueAt  time.Time
	StopOn alert.IncidentStatus // "" never stops
	Target string               // deliveries only
	Action string               // deliveries: page, acknowledge, resolve, info
	// Payload is the router's own encoding of what to do.
	Payload []byte
	// Priority orders due deliveries: the incident's severity, 0 (P0)
	// first.
	Priority int
	// Claim, on a delivery, claims it for this process as it is written.
	Claim *ClaimAtWrite
}

// ClaimAtWrite asks that a delivery be written claimed by this process, leased
// for Lease from the transaction's time, as a claim would leave it (one
// attempt counted): the router sends it once the transaction commits,
// without a claim transaction of its own. Job is the claimed delivery,
// set when the row is written (it stays nil when a delivery of that key
// existed already: nothing was claimed).
type ClaimAtWrite struct {
	Lease time.Duration
	Job   *Job
}

// job is j, of incident inc, as the job it makes: in state, after
// attempts, created at created (row id id; 0 for one not written yet).
func (j *JobSpec) job(id, inc int64, state string, attempts int, created time.Time) *Job {
	return &Job{ID: id, Key: j.Key, Kind: j.Kind, IncidentID: inc, State: state, StopOn: j.StopOn, Target: j.Target,
		Action: j.Action, DueAt: j.DueAt, Attempts: attempts, Payload: j.Payload, CreatedAt: created, Priority: j.Priority}
}

// Job is a stored job.
type Job struct {
	ID         int64
	Key        string
	Kind       string
	IncidentID int64
	State      string
	StopOn     alert.IncidentStatus
	Target     string
	Action     string
	DueAt      time.Time
	Attempts   int
	Payload    []byte
	LastError  string
	CreatedAt  time.Time
	Priority   int
	// Later are the steps of the incident's chain after this one, not
	// rows yet (see chain.go): due later, written when this one runs.
	Later []JobSpec
}

const jobCols = `id, key, kind, incident_id, state, stop_on, target, action, due_at, attempts, payload, last_error, created_at, priority, chain`

func scanJob(r scanner) (*Job, error) {
	var j Job
	var stop, payload, chain string
	var due, created int64
	if err := r.Scan(&j.ID, &j.Key, &j.Kind, &j.IncidentID, &j.State, &stop, &j.Target, &j.Action, &due, &j.Attempts, &payload, &j.LastError, &created, &j.Priority, &chain); err != nil {
		return nil, err
	}
	j.StopOn, j.Payload, j.DueAt, j.CreatedAt = alert.IncidentStatus(stop), []byte(payload), fromMS(due), fromMS(created)
	later, err := decodeChain(chain)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", j.Key, err)
	}
	j.Later = later
	return &j, nil
}

// insertJobs writes jobs for an incident. The steps among them that stop
// on acknowledgement or resolution are written as one chain (chain.go):
// a row for the one due first, carrying the others.
func (t *Tx) insertJobs(inc int64, jobs []JobSpec) error {
	if len(jobs) == 0 {
		return nil
	}
	now := ms(t.s.now())
	others, head, rest := splitChain(jobs)
	for _, j := range others {
		if j.Claim != nil && j.Kind == KindDelivery {
			if err := t.insertClaimed(inc, j); err != nil {
				return err
			}
			continue
		}
		err := t.write("insert job "+j.Key, `INSERT INTO jobs (key, kind, incident_id, state, stop_on, target, action, due_at, payload, created_at, updated_at, priority)
VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			j.Key, j.Kind, inc, string(j.StopOn), j.Target, j.Action, ms(j.DueAt), string(j.Payload), now, now, j.Priority)
		if err != nil {
			return err
		}
	}
	const insertChain = `INSERT INTO jobs (key, kind, incident_id, state, stop_on, target, action, due_at, payload, created_at, updated_at, priority, chain)
VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`
	if head != nil && t.fresh[inc] && !t.chainWritten[inc] {
		// The incident was opened in this transaction and this is its
		// first chain: none of its chained steps (keyed by the incident)
		// can exist yet, so the head is the chain's first step without
		// asking.
		if t.chainWritten == nil {
			t.chainWritten = map[int64]bool{}
		}
		t.chainWritten[inc] = true
		chain, err := encodeChain(rest)
		if err != nil {
			return err
		}
		if err := t.write("insert job "+head.Key, insertChain,
			head.Key, head.Kind, inc, string(head.StopOn), head.Target, head.Action, ms(head.DueAt), string(head.Payload), now, now, head.Priority, chain); err != nil {
			return err
		}
		head = nil
	}
	for head != nil {
		chain, err := encodeChain(rest)
		if err != nil {
			return err
		}
		res, err := t.exec(t.ctx, insertChain,
			head.Key, head.Kind, inc, string(head.StopOn), head.Target, head.Action, ms(head.DueAt), string(head.Payload), now, now, head.Priority, chain)
		if err != nil {
			return fmt.Errorf("insert job %s: %w", head.Key, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert job %s: %w", head.Key, err)
		}
		if n > 0 {
			break
		}
		// That step exists already (it ran, or was planned before): the
		// next one leads the chain.
		head = nil
		if len(rest) > 0 {
			head, rest = &rest[0], rest[1:]
		}
	}
	t.jobsAdded = true
	return nil
}

// insertClaimed writes a delivery claimed by this process (JobSpec.Claim)
// and sets the claim's Job to it as a claim would return it, built from
// what was written rather than read back (a delivery's payload is the
// largest value of its row).
func (t *Tx) insertClaimed(inc int64, j JobSpec) error {
	now := t.s.now()
	c := j.Claim
	return t.writeReturning("insert job "+j.Key, `INSERT INTO jobs (key, kind, incident_id, state, stop_on, target, action, due_at, payload, created_at, updated_at, priority, attempts, lease_until, claimed_by)
VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`, func(r scanner) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		c.Job = j.job(id, inc, JobRunning, 1, fromMS(ms(now)))
		c.Job.DueAt = fromMS(ms(j.DueAt)) // as stored, in whole milliseconds
		return nil
	}, j.Key, j.Kind, inc, string(j.StopOn), j.Target, j.Action, ms(j.DueAt), string(j.Payload), ms(now), ms(now), j.Priority,
		ms(now.Add(c.Lease)), t.s.instance)
}

// InsertJobs adds jobs for an incident.
func (t *Tx) InsertJobs(inc int64, jobs []JobSpec) error { return t.insertJobs(inc, jobs) }

// cancelJobs cancels an incident's pending (and held) jobs that stop on
// one of the given states.
func (t *Tx) cancelJobs(inc int64, stopOn ...string) error {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(stopOn)), ", ")
	args := []any{ms(t.s.now()), inc}
	for _, s := range stopOn {
		args = append(args, s)
	}
	rows, err := t.query(t.ctx, `UPDATE jobs SET state = 'cancelled', updated_at = ? WHERE incident_id = ? AND state IN ('pending', 'held') AND stop_on IN (`+ph+`)
RETURNING chain`, args...)
	if err != nil {
		return fmt.Errorf("cancel jobs: %w", err)
	}
	var chains []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return fmt.Errorf("cancel jobs: %w", err)
		}
		if c != "" {
			chains = append(chains, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cancel jobs: %w", err)
	}
	// A cancelled step's chain goes on with the steps that do not stop on
	// what cancelled it (an acknowledgement leaves the pages that stop on
	// resolution).
	for _, c := range chains {
		chain, err := decodeChain(c)
		if err != nil {
			return err
		}
		var kept []JobSpec
		for _, j := range chain {
			if !slices.Contains(stopOn, string(j.StopOn)) {
				kept = append(kept, j)
			}
		}
		if err := t.insertJobs(inc, kept); err != nil {
			return err
		}
	}
	return t.trimChains(inc, stopOn)
}

// trimChains drops from the chains of an incident's pending and held
// steps the steps that stop on one of stopOn: a chain led by a step that
// stops only on resolution may carry pages that stop on acknowledgement.
func (t *Tx) trimChains(inc int64, stopOn []string) error {
	rows, err := t.query(t.ctx, `SELECT id, chain FROM jobs WHERE incident_id = ? AND state IN ('pending', 'held') AND chain <> ''`, inc)
	if err != nil {
		return fmt.Errorf("trim chains: %w", err)
	}
	type trim struct {
		id    int64
		chain string
	}
	var trims []trim
	for rows.Next() {
		var id int64
		var c string
		if err := rows.Scan(&id, &c); err != nil {
			rows.Close()
			return fmt.Errorf("trim chains: %w", err)
		}
		chain, err := decodeChain(c)
		if err != nil {
			rows.Close()
			return err
		}
		kept := slices.DeleteFunc(chain, func(j JobSpec) bool { return slices.Contains(stopOn, string(j.StopOn)) })
		if len(kept) == len(chain) {
			continue
		}
		enc, err := encodeChain(kept)
		if err != nil {
			rows.Close()
			return err
		}
		trims = append(trims, trim{id, enc})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("trim chains: %w", err)
	}
	for _, tr := range trims {
		if err := t.write("trim chains", `UPDATE jobs SET chain = ? WHERE id = ?`, tr.chain, tr.id); err != nil {
			return err
		}
	}
	return nil
}

// PagedTargets lists the targets that delivered a page for an incident.
func (t *Tx) PagedTargets(inc int64) ([]string, error) {
	rows, err := t.query(t.ctx, `SELECT DISTINCT target FROM jobs WHERE incident_id = ? AND kind = 'delivery' AND action = 'page' AND state = 'done' ORDER BY target`, inc)
	if err != nil {
		return nil, fmt.Errorf("paged targets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Alerts returns up to limit alerts of an incident, firing ones first.
func (t *Tx) Alerts(inc int64, limit int) ([]alert.Alert, error) {
	if written, ok := t.written[inc]; ok && written != nil {
		// An incident the batch opened: its alerts are those the batch
		// wrote, all firing, in id order, taken from memory: each is the
		// alert its stored data decodes to (asStored, in remember), not
		// read back or decoded again. Their maps are the batch's: callers
		// read them and do not change them.
		out := make([]alert.Alert, 0, min(len(written), limit))
		for _, a := range written[:min(len(written), limit)] {
			out = append(out, *a)
		}
		return out, nil
	}
	return t.storedAlerts(inc, limit)
}

// storedAlerts reads an incident's alerts from the database, as Alerts.
func (t *Tx) storedAlerts(inc int64, limit int) ([]alert.Alert, error) {
	rows, err := t.query(t.ctx, `SELECT data FROM alerts WHERE incident_id = ? ORDER BY CASE status WHEN 'firing' THEN 0 ELSE 1 END, id LIMIT ?`, inc, limit)
	if err != nil {
		return nil, fmt.Errorf("incident alerts: %w", err)
	}
	defer rows.Close()
	var out []alert.Alert
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var a alert.Alert
		if err := unmarshalAlert(data, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// StepOutcome is what running a step decided.
type StepOutcome struct {
	// Cancelled marks the step cancelled instead of done.
	Cancelled bool
	// Hold keeps the step back instead: it waits, held, until the
	// suppression ends (ReleaseHeld). Jobs are ignored.
	Hold *Hold
	Jobs []JobSpec
}

// The engine's look for due steps and their claim; both walk the
// jobs_pending_step index (a test checks the plans), never the pending
// deliveries.
const (
	anyStepDue = `SELECT 1 FROM jobs WHERE kind = 'step' AND state = 'pending' AND due_at <= ? LIMIT 1`
	dueSteps   = `SELECT ` + jobCols + ` FROM jobs WHERE kind = 'step' AND state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`
)

// RunSteps runs the escalation steps due at now, at most limit, in one
// transaction: fn sees each step with its incident and returns the jobs it
// implies. Because steps and acknowledgements share the one writer, a step
// either runs before an ack (and its deliveries are then cancelled by the
// ack if they stop on it) or sees the ack and does nothing.
func (s *Store) RunSteps(ctx context.Context, now time.Time, limit int, fn StepRunner) (int, error) {
	// Look on a reader first, so an engine pass with nothing due begins no
	// write transaction (an idle gateway's cost). A step that falls due
	// just after the look is run by the next pass.
	var one int
	err := s.r.QueryRowContext(ctx, s.d.rebind(anyStepDue), ms(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("due steps: %w", err)
	}
	n := 0
	err = s.withTx(ctx, func(t *Tx) error {
		n = 0
		// A step whose successor in its chain is due too (a pass after a
		// stop, a step held) runs it in the same transaction: look again
		// while the chains moved on to due steps.
		for t.dueMoved = true; t.dueMoved && n < limit; {
			t.dueMoved = false
			if err := t.runDueSteps(now, limit, &n, fn); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// runDueSteps runs the steps due at now, up to limit in all (n counts
// them).
func (t *Tx) runDueSteps(now time.Time, limit int, n *int, fn StepRunner) error {
	rows, err := t.query(t.ctx, dueSteps+t.s.d.skipLocked, ms(now), limit-*n)
	if err != nil {
		return fmt.Errorf("due steps: %w", err)
	}
	var jobs []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("due steps: %w", err)
		}
		jobs = append(jobs, j)
	}
	rows.Close()
	for _, j := range jobs {
		if t.dueMoved && j.DueAt.After(t.movedDue) {
			// A chain moved on to a step due before this one: the next
			// look runs that first.
			break
		}
		inc, err := t.incident(j.IncidentID)
		if err != nil {
			return err
		}
		out, err := fn(t, j, inc)
		if err != nil {
			return fmt.Errorf("step %s: %w", j.Key, err)
		}
		if err := t.finishStep(j, inc, out); err != nil {
			return err
		}
		*n++
	}
	return nil
}

// ClaimDeliveries leases due deliveries to this process until now+lease,
// at most limits[target] of each target listed (what the target can start
// now: its free concurrency, its rate), and at most limits[""] of all the
// targets not listed together (targets no longer configured). Due are
// pending deliveries whose time has come, and running ones whose claim is
// stale: the lease ran out (their worker died), or, on a shared database,
// the replica holding the claim stopped heartbeating. Stale claims are
// taken first; then pending deliveries, most urgent first.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limits map[string]int) ([]*Job, error) {
	total := 0
	var listed []string
	for tn, n := range limits {
		if n > 0 {
			total += n
		}
		if tn != "" {
			listed = append(listed, tn)
		}
	}
	if total == 0 {
		return nil, nil
	}
	sort.Strings(listed)
	due, lookStale, err := s.deliveriesDue(ctx, now)
	if err != nil || !due {
		return nil, err
	}
	var jobs []*Job
	err = s.withTx(ctx, func(t *Tx) error {
		jobs = jobs[:0]
		left := make(map[string]int, len(limits))
		for tn, n := range limits {
			left[tn] = n
		}
		budget := func(target string) string {
			if _, ok := limits[target]; ok {
				return target
			}
			return ""
		}
		var ids []any
		var stale []staleClaim
		var err error
		if lookStale { // the look on the reader was that second's look
			if stale, err = t.findStaleClaims(now, total, ""); err != nil {
				return err
			}
		}
		for _, c := range stale {
			if b := budget(c.target); left[b] > 0 {
				left[b]--
				ids = append(ids, c.id)
			}
		}
		// One index range scan (state, due_at) per target that can take
		// more: a hanging target's backlog is not claimed at all.
		var parts []string
		var args []any
		for _, tn := range append(listed, "") {
			n := left[tn]
			if n <= 0 {
				continue
			}
			cond, cargs := "target = ?", []any{tn}
			if tn == "" {
				if len(listed) == 0 {
					cond, cargs = "1 = 1", nil
				} else {
					cond = "target NOT IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(listed)), ", ") + ")"
					cargs = nil
					for _, l := range listed {
						cargs = append(cargs, l)
					}
				}
			}
			parts = append(parts, `SELECT id FROM (SELECT id FROM jobs WHERE state = 'pending' AND due_at <= ? AND kind = 'delivery' AND `+cond+
				` ORDER BY priority, due_at, id LIMIT ?`+s.d.skipLocked+`) AS t`+fmt.Sprint(len(parts)))
			args = append(append(append(args, ms(now)), cargs...), n)
		}
		if len(parts) > 0 {
			rows, err := t.query(ctx, strings.Join(parts, "\nUNION ALL\n"), args...)
			if err != nil {
				return fmt.Errorf("claim deliveries: %w", err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return fmt.Errorf("claim deliveries: %w", err)
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("claim deliveries: %w", err)
			}
		}
		jobs, err = t.claim(ids, now, lease)
		return err
	})
	return jobs, err
}

// claim leases the deliveries ids to this process until now+lease and
// returns them most urgent first.
func (t *Tx) claim(ids []any, now time.Time, lease time.Duration) ([]*Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	jobs, err := t.claimRows(`UPDATE jobs SET `+claimSet+`
WHERE id IN (`+ph+`) RETURNING `+jobCols, append([]any{ms(now.Add(lease)), ms(now), t.s.instance}, ids...)...)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return jobs, nil
}

// claimSet is what a claim sets; its arguments are the lease's end, now
// and the claiming instance.
const claimSet = `state = 'running', lease_until = ?, attempts = attempts + 1, updated_at = ?, claimed_by = ?`

// claimRows runs a claim (UPDATE … RETURNING jobCols) and returns the
// claimed jobs most urgent first.
func (t *Tx) claimRows(q string, args ...any) ([]*Job, error) {
	rows, err := t.query(t.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// RETURNING gives table order: hand them out most urgent first.
	sort.SliceStable(jobs, func(a, b int) bool {
		if jobs[a].Priority != jobs[b].Priority {
			return jobs[a].Priority < jobs[b].Priority
		}
		return jobs[a].DueAt.Before(jobs[b].DueAt)
	})
	return jobs, nil
}

// deliveriesDue looks on a reader whether any delivery could be claimed
// at now (pending and due, or a stale claim), so that an engine pass with
// nothing to claim begins no write transaction (an idle gateway's cost,
// and the last pass of every wake-up in a storm). A delivery that falls
// due just after the look is claimed by the next pass: its commit wakes
// the engine. lookStale says the look included stale claims (at most
// once per staleEvery, on the staleLook clock of all targets, ""): the
// claim that follows looks for them too, on the same clock.
func (s *Store) deliveriesDue(ctx context.Context, now time.Time) (due, lookStale bool, err error) {
	q := `SELECT 1 WHERE EXISTS (SELECT 1 FROM jobs WHERE state = 'pending' AND due_at <= ? AND kind = 'delivery')`
	args := []any{ms(now)}
	if lookStale = s.staleLook("", now); lookStale {
		q += `
OR EXISTS (SELECT 1 FROM jobs WHERE state = 'running' AND lease_until <= ? AND kind = 'delivery')`
		args = append(args, ms(now))
		if s.shared {
			q += `
OR EXISTS (SELECT 1 FROM jobs WHERE state = 'running' AND kind = 'delivery' AND claimed_by IN (
  SELECT instance FROM replicas WHERE seen_at < ? AND instance <> ?))`
			args = append(args, ms(now.Add(-s.leaseTTL)), s.instance)
		}
	}
	var one int
	err = s.r.QueryRowContext(ctx, s.d.rebind(q), args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, lookStale, nil
	}
	if err != nil {
		return false, lookStale, fmt.Errorf("due deliveries: %w", err)
	}
	return true, lookStale, nil
}

// staleLook reports whether it is time to look for target's stale claims
// again, and notes the look.
func (s *Store) staleLook(target string, now time.Time) bool {
	s.staleMu.Lock()
	defer s.staleMu.Unlock()
	if last, ok := s.staleAt[target]; ok && now.Sub(last) < staleEvery && !now.Before(last) {
		return false
	}
	if s.staleAt == nil {
		s.staleAt = map[string]time.Time{}
	}
	s.staleAt[target] = now
	return true
}

type staleClaim struct {
	id     int64
	target string
}

// staleEvery is how often this process looks for stale claims, per
// target and for all targets together. A claim goes stale when its
// lease (minutes) runs out or its replica stops heartbeating (seconds):
// looking on every claim, as deliveries finish by the hundred per second
// in a storm, cost more than everything else the claim does (the running
// deliveries' index holds every delivery sent since the last vacuum),
// for a delivery that can as well be taken up to a second later.
const staleEvery = time.Second

// staleClaimsOf is findStaleClaims of one target, none when this process
// looked for that target's less than staleEvery ago. (The engine's claims
// of every target look when deliveriesDue did, on the all-targets clock
// "".)
func (t *Tx) staleClaimsOf(now time.Time, limit int, target string) ([]staleClaim, error) {
	if !t.s.staleLook(target, now) {
		return nil, nil
	}
	return t.findStaleClaims(now, limit, target)
}

// findStaleClaims lists (and locks, on PostgreSQL) up to limit running
// deliveries of target ("": of every target) whose claim is stale: lease
// over, or held by a replica whose heartbeat is older than the lease TTL
// (it died; its claims are not worth waiting the delivery lease for).
func (t *Tx) findStaleClaims(now time.Time, limit int, target string) ([]staleClaim, error) {
	of, args := "", []any{ms(now)}
	if target != "" {
		of = ` AND target = ?`
		args = append(args, target)
	}
	q := `SELECT id, target FROM jobs WHERE state = 'running' AND lease_until <= ? AND kind = 'delivery'` + of + ` LIMIT ?` + t.s.d.skipLocked
	if t.s.shared {
		q = `SELECT id, target FROM jobs WHERE state = 'running' AND kind = 'delivery'` + of + ` AND (lease_until <= ? OR claimed_by IN (
  SELECT instance FROM replicas WHERE seen_at < ? AND instance <> ?)) LIMIT ?` + t.s.d.skipLocked
		args = append(args[1:], ms(now), ms(now.Add(-t.s.leaseTTL)), t.s.instance)
	}
	args = append(args, limit)
	rows, err := t.query(t.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("stale claims: %w", err)
	}
	defer rows.Close()
	var out []staleClaim
	for rows.Next() {
		var c staleClaim
		if err := rows.Scan(&c.id, &c.target); err != nil {
			return nil, fmt.Errorf("stale claims: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// releaseClaims ends the lease of every running delivery (SQLite, at
// open: a lone gateway's claims all belong to its predecessor, whose
// sends were cut off), so they are claimed again at once instead of after
// the lease. The delivery keeps its idempotency key.
func (s *Store) releaseClaims(ctx context.Context) error {
	return s.withTx(ctx, func(t *Tx) error {
		res, err := t.exec(ctx, `UPDATE jobs SET lease_until = 0 WHERE state = 'running' AND kind = 'delivery'`)
		if err != nil {
			return fmt.Errorf("release claims: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			t.logs = append(t.logs, func() {
				s.log.Info("deliveries cut off by the last stop are sent again now", zap.Int64("deliveries", n))
			})
		}
		return nil
	})
}

// NextDueAfter returns when the earliest job pending after t falls due
// (zero t: any pending job). The engine asks after a pass that ran or
// claimed what was due at t, so it looks only past t: on PostgreSQL the
// index range then starts after the entries of the jobs that left
// pending since the last vacuum — a storm's claimed deliveries, all due
// before t — which MIN over every pending job walked (~2 ms a call, once
// per engine pass, during a storm).
func (s *Store) NextDueAfter(ctx context.Context, t time.Time) (time.Time, bool, error) {
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT MIN(due_at) FROM jobs WHERE state = 'pending' AND due_at > ?`), ms(t)).Scan(&v); err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if !v.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(v.Int64), true, nil
}

// Jobs lists an incident's jobs, oldest first (for tests and the API).
func (s *Store) Jobs(ctx context.Context, inc int64) ([]*Job, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+jobCols+` FROM jobs WHERE incident_id = ? ORDER BY id`), inc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// DeferDelivery puts a claimed delivery back in the queue until at,
// without counting the claim as an attempt (a rate limit said wait).
func (s *Store) DeferDelivery(ctx context.Context, j *Job, at time.Time) error {
	return s.withTx(ctx, func(t *Tx) error {
		_, err := t.exec(ctx, `UPDATE jobs SET state = 'pending', due_at = ?, attempts = attempts - 1, lease_until = 0, updated_at = ? WHERE id = ? AND state = 'running' AND claimed_by = ?`,
			ms(at), ms(s.now()), j.ID, s.instance)
		if err != nil {
			return fmt.Errorf("defer delivery: %w", err)
		}
		t.jobsAdded = true
		return nil
	})
}

// TargetRef returns what a target's service calls an incident ("" when
// it was never told).
func (s *Store) TargetRef(ctx context.Context, inc int64, target string) (string, error) {
	var ref string
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT ref FROM target_refs WHERE incident_id = ? AND target = ?`), inc, target).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: target ref: %v", ErrUnavailable, err)
	}
	return ref, nil
}
