package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/alertgate/alertgate/alert"
)

// An incident's future escalation steps — the pages of the later matrix
// rows, the SLA checks, the reminders: every step that stops on
// acknowledgement or resolution — are not a row each. They are one chain:
// the row of the step due first, which carries the others in its chain
// column, due order. When that step runs (or is held, or skipped), the
// next one still wanted becomes the row, with the rest of the chain; an
// acknowledgement that cancels the row moves the chain on to the first
// step that does not stop on it. So an incident holds one pending row for
// its whole future escalation, due when the next step is, and a step runs
// as it did when every step was a row of its own (same key, same due
// time, same stop condition).

// chainLink is one step of a chain not yet written as a row.
type chainLink struct {
	Key      string `json:"k"`
	DueAt    int64  `json:"d"`
	StopOn   string `json:"s"`
	Payload  string `json:"p"`
	Priority int    `json:"r,omitempty"`
}

// chained reports whether a job belongs in its incident's chain: a step
// that an acknowledgement or a resolution stops.
func chained(j *JobSpec) bool { return j.Kind == KindStep && j.StopOn != "" }

func encodeChain(rest []JobSpec) (string, error) {
	if len(rest) == 0 {
		return "", nil
	}
	links := make([]chainLink, len(rest))
	for i, j := range rest {
		links[i] = chainLink{Key: j.Key, DueAt: ms(j.DueAt), StopOn: string(j.StopOn), Payload: string(j.Payload), Priority: j.Priority}
	}
	b, err := json.Marshal(links)
	if err != nil {
		return "", fmt.Errorf("encode chain: %w", err)
	}
	return string(b), nil
}

func decodeChain(s string) ([]JobSpec, error) {
	if s == "" {
		return nil, nil
	}
	var links []chainLink
	if err := json.Unmarshal([]byte(s), &links); err != nil {
		return nil, fmt.Errorf("decode chain: %w", err)
	}
	out := make([]JobSpec, len(links))
	for i, l := range links {
		out[i] = JobSpec{Key: l.Key, Kind: KindStep, DueAt: fromMS(l.DueAt), StopOn: alert.IncidentStatus(l.StopOn), Payload: []byte(l.Payload), Priority: l.Priority}
	}
	return out, nil
}

// splitChain sorts the chained steps of jobs by due time (plan order for
// the same time) and returns the others, the head of the chain and the
// rest of it.
func splitChain(jobs []JobSpec) (others []JobSpec, head *JobSpec, rest []JobSpec) {
	var steps []JobSpec
	for _, j := range jobs {
		if chained(&j) {
			if steps == nil {
				steps = make([]JobSpec, 0, len(jobs)) // the rest may all be steps
			}
			steps = append(steps, j)
		} else {
			others = append(others, j)
		}
	}
	if len(steps) == 0 {
		return others, nil, nil
	}
	sort.SliceStable(steps, func(a, b int) bool { return steps[a].DueAt.Before(steps[b].DueAt) })
	return others, &steps[0], steps[1:]
}

// survivors are the steps of a chain an incident in status st still needs.
func survivors(chain []JobSpec, st alert.IncidentStatus) []JobSpec {
	var out []JobSpec
	for _, j := range chain {
		if !st.Stops(j.StopOn) {
			out = append(out, j)
		}
	}
	return out
}

// moveChain writes the next step of a chain still needed by an incident
// in status st as a row, carrying the rest, with the jobs planned.
func (t *Tx) moveChain(inc int64, chain []JobSpec, st alert.IncidentStatus, planned ...JobSpec) error {
	next := survivors(chain, st)
	if len(next) > 0 && !next[0].DueAt.After(t.s.now()) && (!t.dueMoved || next[0].DueAt.Before(t.movedDue)) {
		t.dueMoved, t.movedDue = true, next[0].DueAt
	}
	return t.insertJobs(inc, append(planned[:len(planned):len(planned)], next...))
}

// StepRunner decides what a due step sends, inside the store's
// transaction (router.Engine.RunStep): whom it pages, whether a silence
// holds it, the deliveries it implies.
type StepRunner func(t *Tx, j *Job, inc *alert.Incident) (StepOutcome, error)

// SetStepRunner makes the store run the steps of a new incident that are
// due at once (the first page, the channel announcements) in the group
// commit that opens the incident, through fn, instead of writing them as
// steps for a second transaction to run. Without it they are written as
// steps.
func (s *Store) SetStepRunner(fn StepRunner) { s.runner.Store(&fn) }

func (s *Store) stepRunner() StepRunner {
	if p := s.runner.Load(); p != nil {
		return *p
	}
	return nil
}

// finishStep records what running step j decided: held, cancelled or
// done with the jobs it implies; and moves its chain on. A step that is
// not a row yet (ID 0: an immediate step of a new incident) is written
// only when it is held.
func (t *Tx) finishStep(j *Job, inc *alert.Incident, out StepOutcome) error {
	if out.Hold != nil {
		if j.ID == 0 {
			var err error
			j.ID, err = t.insertID("insert held step "+j.Key, `INSERT INTO jobs (key, kind, incident_id, state, stop_on, target, action, due_at, payload, created_at, updated_at, priority)
VALUES (?, ?, ?, 'pending', ?, '', '', ?, ?, ?, ?, ?)`,
				j.Key, j.Kind, j.IncidentID, string(j.StopOn), ms(j.DueAt), string(j.Payload), ms(t.s.now()), ms(t.s.now()), j.Priority)
			if err != nil {
				return err
			}
		} else if len(j.Later) > 0 {
			if err := t.write("hold step", `UPDATE jobs SET chain = '' WHERE id = ?`, j.ID); err != nil {
				return err
			}
		}
		if err := t.hold(j, *out.Hold); err != nil {
			return err
		}
		return t.moveChain(j.IncidentID, j.Later, inc.Status)
	}
	if j.ID != 0 {
		state := JobDone
		if out.Cancelled {
			state = JobCancelled
		}
		if err := t.write("finish step", `UPDATE jobs SET state = ?, attempts = attempts + 1, updated_at = ?, chain = '' WHERE id = ?`, state, ms(t.s.now()), j.ID); err != nil {
			return err
		}
	}
	// What the step planned (a page's repeat) joins the rest of its chain.
	return t.moveChain(j.IncidentID, j.Later, inc.Status, out.Jobs...)
}

// immediate are the steps of an incident opened in this batch that were
// due at its opening, run at the end of the batch (when every alert of the
// batch has joined it), and the future steps of its plan that stop on
// acknowledgement or resolution, written then as one chain with the
// steps those runs plan (the first page's repeat).
type immediate struct {
	incident int64
	severity alert.Severity // at its opening
	steps    []JobSpec
	future   []JobSpec
}

// splitImmediate takes the steps due by now, and the chain of future
// steps, out of a new incident's plan when the store has a step runner.
func (ap *applier) splitImmediate(inc *alert.Incident, jobs []JobSpec) []JobSpec {
	if ap.s.stepRunner() == nil {
		return jobs
	}
	var now, future, later []JobSpec
	for _, j := range jobs {
		switch {
		case j.Kind == KindStep && !j.DueAt.After(ap.now):
			now = append(now, j)
		case chained(&j):
			if future == nil {
				future = make([]JobSpec, 0, len(jobs)) // most of a plan is its chain
			}
			future = append(future, j)
		default:
			later = append(later, j)
		}
	}
	if len(now) == 0 {
		return jobs
	}
	ap.immediate = append(ap.immediate, immediate{incident: inc.ID, severity: inc.Severity, steps: now, future: future})
	return later
}

// keepOpened keeps a copy of an incident the batch opened, as the
// database returns it (times to the millisecond, in UTC), for its
// immediate steps.
func (ap *applier) keepOpened(inc *alert.Incident) {
	c := *inc
	c.OpenedAt, c.UpdatedAt = fromMS(ms(c.OpenedAt)), fromMS(ms(c.UpdatedAt))
	c.AckDue, c.ResolveDue = fromMS(ms(c.AckDue)), fromMS(ms(c.ResolveDue))
	if ap.opened == nil {
		ap.opened = map[int64]*alert.Incident{}
	}
	ap.opened[c.ID] = &c
}

// openedIncident is the incident for a new incident's immediate steps:
// the copy kept at its opening with the batch's count changes
// (flushCounts), or, when the batch changed it otherwise (a raised
// severity, a resolution, a firing count read back), the stored row.
func (ap *applier) openedIncident(id int64) (*alert.Incident, error) {
	if inc, ok := ap.opened[id]; ok && !ap.touched(id) {
		c := *inc
		return &c, nil
	}
	return ap.incident(id)
}

// runImmediate runs the immediate steps of the batch's new incidents, as
// the engine would run them right after the commit, and writes their
// chains. A step the batch has made moot is dropped, as it would have
// been cancelled: the incident was resolved (or resolved and reopened) in
// the batch, or its severity raised (the new level's plan has its own
// pages, SLA checks and reminders).
func (ap *applier) runImmediate() error {
	fn := ap.s.stepRunner()
	// Most urgent first: a delivery the runner claims as it is written
	// takes a free slot of its target, so a P0's page gets one before a
	// lesser incident's message of the same batch.
	slices.SortStableFunc(ap.immediate, func(a, b immediate) int {
		return cmp.Compare(ap.severityOf(&a), ap.severityOf(&b))
	})
	for _, im := range ap.immediate {
		inc, err := ap.openedIncident(im.incident)
		if err != nil {
			return err
		}
		_, raised := ap.raised[im.incident]
		changed := ap.changed[im.incident]
		moot := func(spec *JobSpec) bool {
			return spec.StopOn != "" && (changed || inc.Status.Stops(spec.StopOn)) || raised && levelStep(spec.Key)
		}
		chain := make([]JobSpec, 0, len(im.future)+len(im.steps))
		for _, spec := range im.future {
			if !moot(&spec) {
				chain = append(chain, spec)
			}
		}
		for _, spec := range im.steps {
			if moot(&spec) {
				continue
			}
			j := spec.job(0, im.incident, JobPending, 0, ap.now)
			out, err := fn(&ap.Tx, j, inc)
			if err != nil {
				return fmt.Errorf("step %s: %w", j.Key, err)
			}
			// The steps it plans that stop on acknowledgement or
			// resolution join the incident's chain.
			var now []JobSpec
			for _, o := range out.Jobs {
				if chained(&o) {
					chain = append(chain, o)
				} else {
					now = append(now, o)
				}
			}
			out.Jobs = now
			if err := ap.finishStep(j, inc, out); err != nil {
				return err
			}
		}
		if err := ap.insertJobs(im.incident, chain); err != nil {
			return err
		}
	}
	return nil
}

// severityOf is the severity of an incident the batch opened, raised if
// the batch raised it.
func (ap *applier) severityOf(im *immediate) alert.Severity {
	if sev, ok := ap.raised[im.incident]; ok {
		return sev
	}
	return im.severity
}

// levelStep reports whether a step belongs to a severity level's plan: a
// page, an SLA check or a reminder (what changeLevel cancels).
func levelStep(key string) bool {
	return strings.Contains(key, "/page/") || strings.Contains(key, "/sla/") || strings.Contains(key, "/remind#")
}
