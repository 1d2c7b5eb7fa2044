package store

// Join notes: the alerts that join an open incident are told on its
// timeline in one "alert(s) joined" entry per incident per minute,
// updated in place while it is the latest entry.

import (
	"fmt"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
)

// joinNoteWindow is how long one "alert(s) joined" timeline entry keeps
// counting the alerts that join its incident: a storm adds one line per
// incident per window, not one per batch.
const joinNoteWindow = time.Minute

// joinNoteList is how many fingerprints a join note names.
const joinNoteList = 10

// joinNote is the open "alert(s) joined" entry of an incident's timeline.
// The writer alone reads and changes the notes (commit loop).
type joinNote struct {
	event int64
	first time.Time
	n     int
	fps   []string
}

func (n *joinNote) detail() string {
	d := fmt.Sprintf("%d alert(s) joined: %s", n.n, strings.Join(n.fps, ", "))
	if n.n > len(n.fps) {
		d += fmt.Sprintf(" (+%d more)", n.n-len(n.fps))
	}
	return d
}

// flushAdded records the alerts that joined open incidents in this batch.
// An incident whose last timeline entry is a join note younger than
// joinNoteWindow gets that note updated in place; otherwise a new note
// starts. The UPDATE checks the note is still the incident's latest entry
// (an ack or a re-fire written since, here or by another replica, starts
// a new note), so the timeline stays in order. It is written in the
// batch's transaction: durable with the alerts.
func (ap *applier) flushAdded() error {
	for id, fps := range ap.added {
		old, ok := ap.s.joins[id]
		if ok && ap.now.Sub(old.first) < joinNoteWindow {
			n := &joinNote{event: old.event, first: old.first, n: old.n + len(fps), fps: old.fps}
			if free := joinNoteList - len(n.fps); free > 0 {
				n.fps = append(n.fps[:len(n.fps):len(n.fps)], head(fps, free)...)
			}
			res, err := ap.exec(ap.ctx, `UPDATE events SET detail = ? WHERE id = ? AND id = (SELECT MAX(id) FROM events WHERE incident_id = ?)`,
				n.detail(), n.event, id)
			if err != nil {
				return fmt.Errorf("update join note: %w", err)
			}
			if rows, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("update join note: %w", err)
			} else if rows == 1 {
				ap.notes = append(ap.notes, noteUpdate{id, n})
				continue
			}
		}
		n := &joinNote{first: ap.now, n: len(fps), fps: head(fps, joinNoteList)}
		var err error
		if n.event, err = ap.eventID(id, alert.EventAlertAdded, "", n.detail()); err != nil {
			return err
		}
		ap.notes = append(ap.notes, noteUpdate{id, n})
	}
	return nil
}

type noteUpdate struct {
	incident int64
	note     *joinNote
}

// keepNotes remembers the batch's join notes once it committed, and
// forgets notes past their window.
func (ap *applier) keepNotes() {
	for _, u := range ap.notes {
		ap.s.joins[u.incident] = u.note
	}
	if len(ap.s.joins) > 4096 {
		for id, n := range ap.s.joins {
			if ap.now.Sub(n.first) >= joinNoteWindow {
				delete(ap.s.joins, id)
			}
		}
	}
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
