package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The chaos checker turns what a chaos run recorded — the alerts the
// client got a 2xx for, the database after the drain, every request the
// sink targets received, the kill times — into findings. It is pure, so
// its tests feed it synthetic records that break each promise.

// targetClass is what a chaos target promises about the pages sent to it.
type targetClass int

const (
	// answers: the target answers 2xx, perhaps slowly or after 429s with
	// Retry-After; every due page must reach it.
	answers targetClass = iota
	// fails: the target answers 5xx or hangs past the timeout; every due
	// page must be visible — delivered, dead-lettered or still queued,
	// never without a delivery job.
	fails
)

// chaosTarget is one sink target of the run.
type chaosTarget struct {
	Name  string
	Class targetClass
	// Healthy marks the target first-page lateness is measured at.
	Healthy bool
	// Describe says how the sink behaves, for the report.
	Describe string
}

// chaosStep is a page step of the escalation matrix: the role's step name
// ("oncall#0") and its delay after the incident opened.
type chaosStep struct {
	Name  string
	Delay time.Duration
}

// chaosPlan is what the run's config makes the gateway do.
type chaosPlan struct {
	// Steps are the page steps per severity (0 = P0), first one first.
	Steps   map[int][]chaosStep
	Targets []chaosTarget
}

// chaosRecords is everything a run recorded.
type chaosRecords struct {
	// Sent maps every alert the client posted (fingerprint) to its group
	// (the client's numbering); Acked holds those that got a 2xx.
	Sent  map[string]int
	Acked map[string]bool
	// Incidents, Alerts and Jobs are the database after the drain.
	Incidents []incidentRow
	Alerts    []alertRow
	Jobs      []jobRow
	// Receptions are the requests the sink targets received, in order.
	Receptions []receptionRow
	// Kills are when each SIGKILLed gateway was gone (reaped), not when
	// the signal was sent: a request it wrote just before dying can reach
	// the sink after the SIGKILL was sent (a page of the step it was
	// sending when killed, re-sent ~100 ms later by the restarted gateway,
	// was counted as a re-send with no SIGKILL in between). Whatever the
	// restarted gateway sends arrives after this.
	Kills []time.Time
	// End is when the database was read: steps due by then count.
	End time.Time
}

type incidentRow struct {
	ID          int64
	Severity    int
	AlertCount  int
	FiringCount int
	OpenedAt    time.Time
}

type alertRow struct {
	Fingerprint string
	IncidentID  int64 // 0: none
	Firing      bool
}

type jobRow struct {
	Key, Kind, State string
}

type receptionRow struct {
	Target string
	Key    string // Idempotency-Key
	Kind   string // the body's kind: page, info, …
	At     time.Time
	Status int // the sink's answer; 0: none (hung)
}

// accepted reports whether the sink answered the request with a 2xx.
func (r receptionRow) accepted() bool { return r.Status/100 == 2 }

// chaosFindings are the checker's results. The slices hold one line per
// broken promise (capped in the report).
type chaosFindings struct {
	Sent, Acked, Incidents int
	// Lost: alerts that got a 2xx but are not stored in an incident.
	Lost []string
	// WrongCounts: incidents whose counters disagree with their alerts,
	// groups split over several incidents, incidents mixing groups.
	WrongCounts []string
	// DueAnswering are the pages due at answering targets; Undelivered
	// those of them that never arrived (with their job's state).
	DueAnswering int
	Undelivered  []string
	// DueFailing are the pages due at failing targets by job state
	// ("done", "dead", "pending", …); Invisible those without a job.
	DueFailing map[string]int
	Invisible  []string
	// DoublePages: one step of one group at one target under several
	// idempotency keys.
	DoublePages []string
	// Resends are receptions at answering targets of a key taken in
	// before (see checkResends);
	// ResendDelays their delay after the first; UnexplainedResends those
	// with no SIGKILL in between. ResendDelays is sorted.
	Resends            int
	ResendDelays       []time.Duration
	UnexplainedResends []string
	// Lateness is, per incident, how late its first page arrived at the
	// healthy target after it fell due, sorted; AllLateness the same for
	// every page at the answering targets.
	Lateness, AllLateness []time.Duration
	// PerTarget counts due pages per target and outcome.
	PerTarget map[string]*targetTally
}

// targetTally is one target's due pages by outcome.
type targetTally struct {
	Due, Delivered, Dead, Queued, NoJob int
	// Refused counts the requests the sink answered with a non-2xx or
	// never answered.
	Refused int
}

// broken lists the promises a run broke, empty when it kept them all.
func (f *chaosFindings) broken() []string {
	var out []string
	add := func(what string, n int) {
		if n > 0 {
			out = append(out, fmt.Sprintf("%d %s", n, what))
		}
	}
	add("alerts lost (2xx'd, not stored)", len(f.Lost))
	add("incidents with wrong counts", len(f.WrongCounts))
	add("due pages never delivered to answering targets", len(f.Undelivered))
	add("due pages without a delivery job at failing targets", len(f.Invisible))
	add("double pages (one step under several keys)", len(f.DoublePages))
	add("same-key re-sends with no SIGKILL in between", len(f.UnexplainedResends))
	return out
}

// checkChaos compares a run's records with the plan.
func checkChaos(plan chaosPlan, rec chaosRecords) *chaosFindings {
	f := &chaosFindings{Sent: len(rec.Sent), Acked: len(rec.Acked), Incidents: len(rec.Incidents),
		DueFailing: map[string]int{}, PerTarget: map[string]*targetTally{}}
	stored := map[string]alertRow{}
	for _, a := range rec.Alerts {
		stored[a.Fingerprint] = a
	}
	for fp := range rec.Acked {
		if a, ok := stored[fp]; !ok || a.IncidentID == 0 {
			f.Lost = append(f.Lost, fp)
		}
	}
	incGroup := checkCounts(f, rec, stored)
	checkDeliveries(f, plan, rec)
	checkDoubles(f, rec, incGroup)
	checkResends(f, plan, rec)
	checkLateness(f, plan, rec)
	for _, s := range [][]string{f.Lost, f.WrongCounts, f.Undelivered, f.Invisible, f.DoublePages, f.UnexplainedResends} {
		sort.Strings(s)
	}
	return f
}

// checkCounts checks each incident's counters against its stored alerts
// (nothing resolves in a chaos run: every alert is firing) and that each
// group of the client is one incident. It returns each incident's group.
func checkCounts(f *chaosFindings, rec chaosRecords, stored map[string]alertRow) map[int64]int {
	all, firing := map[int64]int{}, map[int64]int{}
	groupsOf := map[int64]map[int]bool{} // incident → client groups of its alerts
	incsOf := map[int]map[int64]bool{}   // client group → incidents
	for fp, a := range stored {
		if a.IncidentID == 0 {
			continue
		}
		all[a.IncidentID]++
		if a.Firing {
			firing[a.IncidentID]++
		}
		g, ok := rec.Sent[fp]
		if !ok {
			continue // not this client's alert
		}
		addTo(groupsOf, a.IncidentID, g)
		addTo(incsOf, g, a.IncidentID)
	}
	incGroup := map[int64]int{}
	for _, inc := range rec.Incidents {
		if inc.AlertCount != all[inc.ID] || inc.FiringCount != firing[inc.ID] {
			f.WrongCounts = append(f.WrongCounts, fmt.Sprintf("INC-%d: alert_count %d, firing_count %d; %d alerts stored, %d firing",
				inc.ID, inc.AlertCount, inc.FiringCount, all[inc.ID], firing[inc.ID]))
		}
		gs := sortedInts(groupsOf[inc.ID])
		if len(gs) > 1 {
			f.WrongCounts = append(f.WrongCounts, fmt.Sprintf("INC-%d holds alerts of groups %v", inc.ID, gs))
		}
		if len(gs) > 0 {
			incGroup[inc.ID] = gs[0]
		}
	}
	for g, incs := range incsOf {
		if len(incs) > 1 {
			ids := make([]string, 0, len(incs))
			for id := range incs {
				ids = append(ids, fmt.Sprintf("INC-%d", id))
			}
			sort.Strings(ids)
			f.WrongCounts = append(f.WrongCounts, fmt.Sprintf("group %d split over %s", g, strings.Join(ids, ", ")))
		}
	}
	return incGroup
}

// checkDeliveries walks every page due by rec.End at every target.
func checkDeliveries(f *chaosFindings, plan chaosPlan, rec chaosRecords) {
	jobState := map[string]string{}
	for _, j := range rec.Jobs {
		jobState[j.Key] = j.State
	}
	got := map[string]bool{}
	for _, r := range rec.Receptions {
		if r.accepted() {
			got[r.Key] = true
		} else {
			f.tally(r.Target).Refused++
		}
	}
	for _, inc := range rec.Incidents {
		for _, st := range plan.Steps[inc.Severity] {
			if inc.OpenedAt.Add(st.Delay).After(rec.End) {
				continue
			}
			for _, t := range plan.Targets {
				key := pageKey(inc.ID, st.Name, t.Name)
				tl := f.tally(t.Name)
				tl.Due++
				state, hasJob := jobState[key]
				switch {
				case got[key]:
					tl.Delivered++
				case !hasJob:
					tl.NoJob++
				case state == "dead":
					tl.Dead++
				default:
					tl.Queued++
				}
				if t.Class == answers {
					f.DueAnswering++
					if !got[key] {
						if !hasJob {
							state = "no delivery job"
						}
						f.Undelivered = append(f.Undelivered, fmt.Sprintf("%s (%s)", key, state))
					}
					continue
				}
				switch {
				case got[key]:
					f.DueFailing["delivered"]++
				case !hasJob:
					f.Invisible = append(f.Invisible, key)
				default:
					f.DueFailing[state]++
				}
			}
		}
	}
}

func (f *chaosFindings) tally(target string) *targetTally {
	t := f.PerTarget[target]
	if t == nil {
		t = &targetTally{}
		f.PerTarget[target] = t
	}
	return t
}

// checkDoubles finds one group's step paged at one target under several
// keys (two incidents for one group, or keys that changed).
func checkDoubles(f *chaosFindings, rec chaosRecords, incGroup map[int64]int) {
	keys := map[string]map[string]bool{} // group/step/target → keys
	for _, r := range rec.Receptions {
		if r.Kind != "page" || !r.accepted() {
			continue
		}
		inc, step, target, ok := parsePageKey(r.Key)
		if !ok {
			f.DoublePages = append(f.DoublePages, fmt.Sprintf("page with an unexpected key %q at %s", r.Key, r.Target))
			continue
		}
		id := fmt.Sprintf("INC-%d", inc)
		if g, ok := incGroup[inc]; ok {
			id = fmt.Sprintf("group %d", g)
		}
		addTo(keys, id+" "+step+" at "+target, r.Key)
	}
	for what, ks := range keys {
		if len(ks) > 1 {
			f.DoublePages = append(f.DoublePages, fmt.Sprintf("%s under %s", what, strings.Join(sortedStrings(ks), ", ")))
		}
	}
}

// checkResends counts, at the answering targets, requests with a key the
// target already took in — answered 2xx, or held unanswered until the
// gateway dropped the connection — and whether a SIGKILL explains each
// (the gateway died before it recorded the first). A key refused with a
// 429 is retried, not re-sent; failing targets get retries by design.
func checkResends(f *chaosFindings, plan chaosPlan, rec chaosRecords) {
	answering := map[string]bool{}
	for _, t := range plan.Targets {
		answering[t.Name] = t.Class == answers
	}
	first, prev := map[string]time.Time{}, map[string]time.Time{}
	for _, r := range rec.Receptions {
		if !answering[r.Target] || (r.Status != 0 && !r.accepted()) {
			continue
		}
		t0, seen := first[r.Key]
		if !seen {
			first[r.Key], prev[r.Key] = r.At, r.At
			continue
		}
		f.Resends++
		f.ResendDelays = append(f.ResendDelays, r.At.Sub(t0))
		if !killBetween(rec.Kills, prev[r.Key], r.At) {
			f.UnexplainedResends = append(f.UnexplainedResends, fmt.Sprintf("%s at %s again after %s", r.Key, r.Target, r.At.Sub(prev[r.Key]).Round(time.Millisecond)))
		}
		prev[r.Key] = r.At
	}
	slices.Sort(f.ResendDelays)
}

// checkLateness measures how late pages arrived (first 2xx'd reception
// minus due time): each incident's first page at the healthy targets, and
// every page at the answering targets.
func checkLateness(f *chaosFindings, plan chaosPlan, rec chaosRecords) {
	arrived := map[string]time.Time{}
	for _, r := range rec.Receptions {
		if _, ok := arrived[r.Key]; !ok && r.accepted() {
			arrived[r.Key] = r.At
		}
	}
	for _, inc := range rec.Incidents {
		for i, st := range plan.Steps[inc.Severity] {
			due := inc.OpenedAt.Add(st.Delay)
			for _, t := range plan.Targets {
				at, ok := arrived[pageKey(inc.ID, st.Name, t.Name)]
				if !ok || t.Class != answers {
					continue
				}
				late := max(at.Sub(due), 0)
				f.AllLateness = append(f.AllLateness, late)
				if i == 0 && t.Healthy {
					f.Lateness = append(f.Lateness, late)
				}
			}
		}
	}
	slices.Sort(f.Lateness)
	slices.Sort(f.AllLateness)
}

// killBetween reports whether a gateway was killed between two receptions
// of a key: the first arrived before the killed gateway was gone (it may
// have sent it), the second after (its successor sent it).
func killBetween(kills []time.Time, from, to time.Time) bool {
	for _, k := range kills {
		if !from.After(k) && to.After(k) {
			return true
		}
	}
	return false
}

// pageKey is the idempotency key of a page delivery.
func pageKey(inc int64, step, target string) string {
	return fmt.Sprintf("INC-%d/page/%s/%s", inc, step, target)
}

// parsePageKey splits "INC-7/page/oncall#0/healthy".
func parsePageKey(key string) (inc int64, step, target string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[1] != "page" {
		return 0, "", "", false
	}
	if _, err := fmt.Sscanf(parts[0], "INC-%d", &inc); err != nil {
		return 0, "", "", false
	}
	return inc, parts[2], parts[3], true
}

// percentile returns the q-quantile (0 < q ≤ 1) of sorted values, 0 when
// there are none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func addTo[K, V comparable](m map[K]map[V]bool, k K, v V) {
	if m[k] == nil {
		m[k] = map[V]bool{}
	}
	m[k][v] = true
}

func sortedInts(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
