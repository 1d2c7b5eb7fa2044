package rules

import (
	"errors"
	"fmt"
	"time"

	"github.com/alertgate/alertgate/config"
)

// window is a recurring maintenance window: on its weekdays, from start to
// end in its time zone. A window whose end is before its start runs over
// midnight into the next day; its weekday is the day it starts.
type window struct {
	name     string
	matchers []matcher
	days     [7]bool // by time.Weekday; all true when the config lists none
	startH   int
	startM   int
	endH     int
	endM     int
	// overnight: the end is on the day after the start.
	overnight bool
	loc       *time.Location
}

func newWindow(c *config.Maintenance) (window, error) {
	w := window{name: c.Name}
	if len(c.Matchers) == 0 {
		return window{}, errors.New("matchers must list at least one matcher")
	}
	for _, s := range c.Matchers {
		m, err := newMatcher(s)
		if err != nil {
			return window{}, fmt.Errorf("matcher %q: %w", s, err)
		}
		w.matchers = append(w.matchers, m)
	}
	for _, d := range c.Weekdays {
		wd, err := config.ParseWeekday(d)
		if err != nil {
			return window{}, err
		}
		w.days[wd] = true
	}
	if len(c.Weekdays) == 0 {
		w.days = [7]bool{true, true, true, true, true, true, true}
	}
	var err error
	if w.startH, w.startM, err = config.ParseClock(c.Start); err != nil {
		return window{}, fmt.Errorf("start: %w", err)
	}
	if w.endH, w.endM, err = config.ParseClock(c.End); err != nil {
		return window{}, fmt.Errorf("end: %w", err)
	}
	start, end := w.startH*60+w.startM, w.endH*60+w.endM
	if start == end {
		return window{}, errors.New("end equals start")
	}
	w.overnight = end < start
	if c.TimeZone == "" {
		return window{}, errors.New("time_zone is required")
	}
	if w.loc, err = time.LoadLocation(c.TimeZone); err != nil {
		return window{}, fmt.Errorf("time_zone: %w", err)
	}
	return w, nil
}

// active reports whether now falls in an occurrence of the window and
// when that occurrence ends. Occurrences are computed with time.Date in
// the window's zone, so they follow DST: 02:00–04:00 is always local time,
// and a start in a skipped hour moves to the first instant after it.
func (w *window) active(now time.Time) (time.Time, bool) {
	local := now.In(w.loc)
	y, m, d := local.Date()
	// An occurrence that started today, or yesterday and runs overnight.
	for _, back := range [2]int{0, 1} {
		start := time.Date(y, m, d-back, w.startH, w.startM, 0, 0, w.loc)
		if !w.days[start.Weekday()] {
			continue
		}
		endDay := d - back
		if w.overnight {
			endDay++
		}
		end := time.Date(y, m, endDay, w.endH, w.endM, 0, 0, w.loc)
		if !now.Before(start) && now.Before(end) {
			return end, true
		}
	}
	return time.Time{}, false
}

func (w *window) matches(v *view) bool {
	for i := range w.matchers {
		if !w.matchers[i].matches(v.value(w.matchers[i].Name)) {
			return false
		}
	}
	return true
}
