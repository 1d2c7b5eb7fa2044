package rules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// Silence mutes the pages of matching alerts between StartsAt and EndsAt.
// Silenced alerts are still recorded.
type Silence struct {
	ID       string
	Matchers []*labels.Matcher
	StartsAt time.Time
	EndsAt   time.Time
	// ExpireOnResolve asks the store to end the silence when the alerts it
	// silenced resolve.
	ExpireOnResolve bool
	CreatedBy       string
	Comment         string
}

// ParseSilence converts a configured (or API-posted) silence. Matchers use
// Alertmanager's syntax; starts_at defaults to now; ends_at is required and
// must be after starts_at. Times are RFC 3339.
func ParseSilence(c config.Silence, now time.Time) (Silence, error) {
	s := Silence{ID: c.ID, StartsAt: now, ExpireOnResolve: c.ExpireOnResolve, CreatedBy: c.CreatedBy, Comment: c.Comment}
	if len(c.Matchers) == 0 {
		return Silence{}, errors.New("silence: matchers must list at least one matcher")
	}
	for _, ms := range c.Matchers {
		m, err := labels.ParseMatcher(ms)
		if err != nil {
			return Silence{}, fmt.Errorf("silence: matcher %q: %w", ms, err)
		}
		s.Matchers = append(s.Matchers, m)
	}
	if c.StartsAt != "" {
		t, err := time.Parse(time.RFC3339, c.StartsAt)
		if err != nil {
			return Silence{}, fmt.Errorf("silence: starts_at %q is not an RFC 3339 time", c.StartsAt)
		}
		s.StartsAt = t
	}
	if c.EndsAt == "" {
		return Silence{}, errors.New("silence: ends_at is required")
	}
	t, err := time.Parse(time.RFC3339, c.EndsAt)
	if err != nil {
		return Silence{}, fmt.Errorf("silence: ends_at %q is not an RFC 3339 time", c.EndsAt)
	}
	if !t.After(s.StartsAt) {
		return Silence{}, errors.New("silence: ends_at must be after starts_at")
	}
	s.EndsAt = t
	return s, nil
}

// Active reports whether the silence applies at now: StartsAt ≤ now < EndsAt.
func (s *Silence) Active(now time.Time) bool {
	return !now.Before(s.StartsAt) && now.Before(s.EndsAt)
}

// Matches reports whether every matcher holds for the alert, over the same
// view as rule matchers (labels, then the fields source, source_type,
// title, description, service, severity, status). It does not see a
// decision: Suppress also offers "priority" and the decided "category".
func (s *Silence) Matches(a *alert.Alert) bool {
	v := view{a: a}
	return s.matches(&v)
}

func (s *Silence) matches(v *view) bool {
	for _, m := range s.Matchers {
		if !m.Matches(v.value(m.Name)) {
			return false
		}
	}
	return true
}

// Silences returns the silences of the config, with IDs "config-<n>"
// (n counting from 1) where the config gives none. Suppress always checks
// them; the store lists them next to its own.
func (e *Engine) Silences() []Silence {
	return append([]Silence(nil), e.silences...)
}

// compileSuppression converts the config's silences, maintenance windows
// and inhibit rules. Config silences without starts_at apply from the
// start (New has no clock).
func (e *Engine) compileSuppression(cfg *config.Config) error {
	for i, c := range cfg.Silences {
		if c.ID == "" {
			c.ID = "config-" + strconv.Itoa(i+1)
		}
		s, err := ParseSilence(c, time.Time{})
		if err != nil {
			return fmt.Errorf("silences[%d] (%s): %w", i, c.ID, err)
		}
		e.silences = append(e.silences, s)
	}
	for i := range cfg.Maintenance {
		w, err := newWindow(&cfg.Maintenance[i])
		if err != nil {
			return fmt.Errorf("maintenance[%d] (%s): %w", i, cfg.Maintenance[i].Name, err)
		}
		e.windows = append(e.windows, w)
	}
	for i := range cfg.Inhibit {
		r, err := newInhibitRule(i, &cfg.Inhibit[i])
		if err != nil {
			return err
		}
		e.inhibit = append(e.inhibit, r)
	}
	e.inhibitKey = commonEqual(e.inhibit)
	return nil
}

// commonEqual returns the names in every inhibit rule's equal list, sorted;
// nil when there is no rule or no name all of them share.
func commonEqual(rs []inhibitRule) []string {
	if len(rs) == 0 {
		return nil
	}
	var out []string
	for _, n := range sortedCopy(rs[0].equal) {
		all := true
		for _, r := range rs[1:] {
			all = all && slices.Contains(r.equal, n)
		}
		if all && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
