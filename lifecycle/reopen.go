package lifecycle

import (
	"fmt"
	"time"
)

// Change is how a reopen escalates.
type Change uint8

const (
	// ChangeReopened: the incident escalates afresh from its first step.
	ChangeReopened Change = iota
	// ChangeFlapping: the reopen that makes the incident flapping: the
	// channel is told and the flapping role paged once.
	ChangeFlapping
	// ChangeFlapped: a flapping incident reopened again: the channel is
	// told, nobody is paged.
	ChangeFlapped
)

func (c Change) String() string {
	switch c {
	case ChangeReopened:
		return "reopened"
	case ChangeFlapping:
		return "flapping"
	case ChangeFlapped:
		return "flapped"
	}
	return fmt.Sprintf("change(%d)", uint8(c))
}

// Reopening is what a reopen writes: the incident is triggered again
// (whoever had acknowledged it), its flap number grows by one, and it is
// flapping or not.
type Reopening struct {
	Change Change
	// Flap is the incident's flap number after this reopen.
	Flap     int
	Flapping bool
	// Reopens counts the reopens within the flapping window, this one
	// included (ChangeReopened and ChangeFlapping with the hysteresis on).
	Reopens int
	// Since is how long the incident had been resolved.
	Since time.Duration
}

// LookBack is how long after its resolution an incident can still be
// reopened: the reopen window, or the flapping window when that is longer
// (a flapping incident stays reopenable for its window). Zero: nothing
// reopens, and the store need not look for a resolved incident.
func (p Policy) LookBack() time.Duration {
	if p.ReopenWithin <= 0 {
		return 0
	}
	if p.Flapping.On() && p.Flapping.Window > p.ReopenWithin {
		return p.Flapping.Window
	}
	return p.ReopenWithin
}

// CountsReopens reports whether Decide needs l.RecentReopens: when the
// resolved incident l reopens now and the hysteresis must count whether
// this reopen makes it flapping.
func (p Policy) CountsReopens(now time.Time, l Latest) bool {
	_, still, ok := p.reopenable(now, &l)
	return ok && !still && p.Flapping.On()
}

// reopenable reports whether the resolved incident l reopens now, and
// whether it is still flapping. Times compare in milliseconds, as stored,
// the reopen window's end included and the flapping window's end not.
func (p Policy) reopenable(now time.Time, l *Latest) (since time.Duration, stillFlapping, ok bool) {
	look := p.LookBack()
	if look <= 0 || l == nil || l.Open {
		return 0, false, false
	}
	at := l.ResolvedAt.UnixMilli()
	if at < now.Add(-look).UnixMilli() {
		return 0, false, false
	}
	stillFlapping = l.Flapping && p.Flapping.On() && at > now.Add(-p.Flapping.Window).UnixMilli()
	if at < now.Add(-p.ReopenWithin).UnixMilli() && !stillFlapping {
		return 0, false, false
	}
	return now.Sub(l.ResolvedAt), stillFlapping, true
}

func (p Policy) reopen(now time.Time, l *Latest) (Reopening, bool) {
	since, still, ok := p.reopenable(now, l)
	if !ok {
		return Reopening{}, false
	}
	r := Reopening{Change: ChangeReopened, Flap: l.Flaps + 1, Since: since}
	switch {
	case still:
		r.Change = ChangeFlapped
	case p.Flapping.On():
		r.Reopens = l.RecentReopens + 1
		if r.Reopens >= p.Flapping.Reopens {
			r.Change = ChangeFlapping
		}
	}
	r.Flapping = r.Change != ChangeReopened
	return r, true
}

// Note is the reopen's line on the incident's timeline: which alert fired
// again, after how long, the flap number, who had acknowledged it (ackedBy,
// empty when nobody) and how it escalates.
func (p Policy) Note(r Reopening, fingerprint, ackedBy string) string {
	detail := fmt.Sprintf("alert %s fired again %s after resolution (flap #%d)", fingerprint, r.Since.Round(time.Second), r.Flap)
	if ackedBy != "" {
		detail += "; the acknowledgement by " + ackedBy + " does not carry over"
	}
	switch r.Change {
	case ChangeReopened:
		detail += "; escalation starts again"
	case ChangeFlapping:
		detail += fmt.Sprintf("; flapping (%d reopens within %s): paged once, later reopens only tell the channel until it stays resolved for %s",
			r.Reopens, p.Flapping.Window, p.Flapping.Window)
	case ChangeFlapped:
		detail += "; flapping: the channel is told, nobody is paged"
	}
	return detail
}
