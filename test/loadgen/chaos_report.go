package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// chaosReport is what `loadgen chaos` prints: one column per engine.
type chaosReport struct {
	Command string
	Machine machine
	Date    time.Time
	Opts    chaosOptions
	Plan    chaosPlan
	Runs    []*chaosRun
}

// broken lists every engine's broken promises.
func (rep *chaosReport) broken() []string {
	var out []string
	for _, r := range rep.Runs {
		for _, b := range r.Findings.broken() {
			out = append(out, r.Engine+": "+b)
		}
	}
	return out
}

// chaosRow is one line of the table: a measure, its value per run, and
// the promise (zero) it is held to, if any.
type chaosRow struct {
	name    string
	value   func(r *chaosRun) string
	promise func(r *chaosRun) int // nil: informational
}

func chaosRows() []chaosRow {
	n := func(v int) string { return fmtInt(uint64(v)) }
	return []chaosRow{
		{name: "alerts posted (distinct) / requests", value: func(r *chaosRun) string {
			return fmt.Sprintf("%s (%s) / %s", n(r.Client.Posts), n(r.Findings.Sent), n(r.Client.Requests))
		}},
		{name: "connection errors / non-2xx answers (retried)", value: func(r *chaosRun) string {
			return fmt.Sprintf("%s / %s", n(r.Client.ConnErrors), n(non2xx(r.Client.Status)))
		}},
		{name: "alerts 2xx'd (posts given up)", value: func(r *chaosRun) string {
			return fmt.Sprintf("%s (%s)", n(r.Findings.Acked), n(r.Client.GaveUp))
		}},
		{name: "alerts lost (2xx'd, not stored)", value: func(r *chaosRun) string { return n(len(r.Findings.Lost)) },
			promise: func(r *chaosRun) int { return len(r.Findings.Lost) }},
		{name: "incidents", value: func(r *chaosRun) string { return n(r.Findings.Incidents) }},
		{name: "incidents with wrong counts (or split groups)", value: func(r *chaosRun) string { return n(len(r.Findings.WrongCounts)) },
			promise: func(r *chaosRun) int { return len(r.Findings.WrongCounts) }},
		{name: "pages due at answering targets", value: func(r *chaosRun) string { return n(r.Findings.DueAnswering) }},
		{name: "— never delivered", value: func(r *chaosRun) string { return n(len(r.Findings.Undelivered)) },
			promise: func(r *chaosRun) int { return len(r.Findings.Undelivered) }},
		{name: "pages due at failing targets: delivered / dead-lettered / queued", value: func(r *chaosRun) string {
			d := r.Findings.DueFailing
			return fmt.Sprintf("%s / %s / %s", n(d["delivered"]), n(d["dead"]), n(d["pending"]+d["running"]+d["held"]))
		}},
		{name: "— without a delivery job", value: func(r *chaosRun) string { return n(len(r.Findings.Invisible)) },
			promise: func(r *chaosRun) int { return len(r.Findings.Invisible) }},
		{name: "double pages (one step, several keys)", value: func(r *chaosRun) string { return n(len(r.Findings.DoublePages)) },
			promise: func(r *chaosRun) int { return len(r.Findings.DoublePages) }},
		{name: "same-key re-sends: count, delay p50 / max", value: func(r *chaosRun) string {
			f := r.Findings
			if f.Resends == 0 {
				return "0"
			}
			return fmt.Sprintf("%s, %s / %s", n(f.Resends), fmtDur(percentile(f.ResendDelays, 0.5)), fmtDur(percentile(f.ResendDelays, 1)))
		}},
		{name: "— with no SIGKILL in between", value: func(r *chaosRun) string { return n(len(r.Findings.UnexplainedResends)) },
			promise: func(r *chaosRun) int { return len(r.Findings.UnexplainedResends) }},
		{name: "first-page lateness at the healthy target p50 / p99 / max", value: func(r *chaosRun) string {
			l := r.Findings.Lateness
			return fmt.Sprintf("%s / %s / %s", fmtDur(percentile(l, 0.5)), fmtDur(percentile(l, 0.99)), fmtDur(percentile(l, 1)))
		}},
		{name: "lateness of every page at the answering targets p50 / p99 / max", value: func(r *chaosRun) string {
			l := r.Findings.AllLateness
			return fmt.Sprintf("%s / %s / %s", fmtDur(percentile(l, 0.5)), fmtDur(percentile(l, 0.99)), fmtDur(percentile(l, 1)))
		}},
		{name: "SIGKILLs; restart to ready, max", value: func(r *chaosRun) string {
			return fmt.Sprintf("%d; %s", len(r.Restarts), fmtDur(slices.Max(append([]time.Duration{0}, r.Restarts...))))
		}},
		{name: "drain after the load", value: func(r *chaosRun) string {
			if !r.Settled {
				return "not settled in " + fmtDur(r.Drained)
			}
			return fmtDur(r.Drained)
		}},
		{name: "peak RSS", value: func(r *chaosRun) string { return fmtBytes(r.PeakRSS) }},
	}
}

func non2xx(status map[int]int) int {
	n := 0
	for s, c := range status {
		if s/100 != 2 {
			n += c
		}
	}
	return n
}

// write prints the report as Markdown.
func (rep *chaosReport) write(w io.Writer) error {
	var b strings.Builder
	o := rep.Opts
	fmt.Fprintf(&b, "## Chaos run, %s\n\n", rep.Date.UTC().Format("2006-01-02 15:04 MST"))
	m := rep.Machine
	fmt.Fprintf(&b, "%s, %d CPUs (GOMAXPROCS %d), %s %s/%s. `%s`\n\n", m.CPU, m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch, rep.Command)
	fmt.Fprintf(&b, "Per engine: %s of load, %g Alertmanager alerts/s, one per request from %d connections (groups of %d distinct alerts, every third group P1, the others P0; one post in four repeats an earlier alert); %d SIGKILLs of the gateway's process group, evenly spaced, each followed at once by a restart on the same database; then a drain of at most %s. Every role pages every target:\n\n",
		o.duration, o.rate, o.conns, o.groupSize, o.kills, o.drain)
	b.WriteString("| target | behaviour | promise |\n|---|---|---|\n")
	for _, t := range rep.Plan.Targets {
		promise := "every due page delivered"
		if t.Class == fails {
			promise = "every due page delivered, dead-lettered or queued (visible)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Name, t.Describe, promise)
	}
	b.WriteString("\n| |")
	for _, r := range rep.Runs {
		fmt.Fprintf(&b, " %s |", r.Engine)
	}
	b.WriteString(" promise |\n|---|")
	for range rep.Runs {
		b.WriteString("---:|")
	}
	b.WriteString("---|\n")
	for _, row := range chaosRows() {
		fmt.Fprintf(&b, "| %s |", row.name)
		for _, r := range rep.Runs {
			v := row.value(r)
			if row.promise != nil && row.promise(r) > 0 {
				v = "**" + v + " FAIL**"
			}
			fmt.Fprintf(&b, " %s |", v)
		}
		promise := ""
		if row.promise != nil {
			promise = "0"
		}
		fmt.Fprintf(&b, " %s |\n", promise)
	}
	verdict := "| verdict |"
	for _, r := range rep.Runs {
		verdict += " " + passFail(len(r.Findings.broken()) == 0) + " |"
	}
	b.WriteString(verdict + " |\n")

	for _, r := range rep.Runs {
		fmt.Fprintf(&b, "\n%s, due pages per target:\n\n| target | due | delivered | dead-lettered | queued | no job | requests refused or unanswered |\n|---|---:|---:|---:|---:|---:|---:|\n", r.Engine)
		for _, t := range rep.Plan.Targets {
			tl := r.Findings.PerTarget[t.Name]
			if tl == nil {
				tl = &targetTally{}
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", t.Name, tl.Due, tl.Delivered, tl.Dead, tl.Queued, tl.NoJob, tl.Refused)
		}
		writeExamples(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeExamples lists up to ten instances of each broken promise.
func writeExamples(b *strings.Builder, r *chaosRun) {
	f := r.Findings
	for _, ex := range []struct {
		what string
		list []string
	}{
		{"alerts lost", f.Lost}, {"wrong counts", f.WrongCounts}, {"never delivered", f.Undelivered},
		{"without a delivery job", f.Invisible}, {"double pages", f.DoublePages}, {"re-sends with no SIGKILL in between", f.UnexplainedResends},
	} {
		if len(ex.list) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s, %s (%d):\n", r.Engine, ex.what, len(ex.list))
		for _, l := range ex.list[:min(len(ex.list), 10)] {
			fmt.Fprintf(b, "- %s\n", l)
		}
	}
}
