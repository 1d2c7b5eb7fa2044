package router

import (
	"fmt"
	"strings"

	"github.com/alertgate/alertgate/config"
)

// Routing is a config built for the engine: the notifier of every target
// built, and the targets whose settings did not change carrying over their
// circuit breaker and rate limit state. Building one changes nothing;
// SetRouting switches to it, or, for an engine reading its routing from
// Options.Routing, PrepareRouting readies it and the owner of that pointer
// switches.
type Routing struct {
	r *routing
	// fresh are the targets built anew, whose metrics PrepareRouting
	// starts.
	fresh []*target
}

// Config is the config r was built from.
func (r *Routing) Config() *config.Config { return r.r.cfg }

// current is the routing in use: Options.Routing's once it has one, else
// the engine's own.
func (e *Engine) current() *routing {
	return e.Routing().r
}

// Routing is the routing the engine reads now.
func (e *Engine) Routing() *Routing {
	if e.shared != nil {
		if r := e.shared(); r != nil {
			return r
		}
	}
	return e.own.Load()
}

// BuildRouting builds every target of cfg (a validated config) against the
// running ones, and returns the first error without changing anything.
// Every notifier is built again (the templates may have changed).
func (e *Engine) BuildRouting(cfg *config.Config) (*Routing, error) {
	var old *routing
	if cur := e.Routing(); cur != nil {
		old = cur.r
	}
	r := &routing{cfg: cfg, targets: map[string]*target{}}
	var fresh []*target
	for _, tc := range cfg.Targets {
		n, err := e.build(cfg, tc)
		if err != nil {
			if prefix := fmt.Sprintf("target %q: ", tc.Name); !strings.HasPrefix(err.Error(), prefix) {
				err = fmt.Errorf("%s%w", prefix, err)
			}
			return nil, err
		}
		if old != nil {
			if t, ok := old.targets[tc.Name]; ok && t.cfg.Equal(tc) {
				kept := *t // same breaker and limiter
				kept.n = n
				r.targets[tc.Name] = &kept
				continue
			}
		}
		t := newTarget(tc, n, e.log, e.m, e.now)
		r.targets[tc.Name] = t
		fresh = append(fresh, t)
	}
	return &Routing{r: r, fresh: fresh}, nil
}

// PrepareRouting starts the metrics of r's new targets (breaker closed,
// counters at zero). It is called before r is switched to, so that no
// delivery through r finds them missing, nor has its breaker state reset
// by it afterwards.
func (e *Engine) PrepareRouting(r *Routing) {
	for _, t := range r.fresh {
		e.m.breakerState.WithLabelValues(t.name).Set(0)
		e.m.initTarget(t.name, t.typ)
	}
}

// SetRouting switches the engine's own routing to r in one step (a
// reload of an engine without Options.Routing): steps and deliveries
// already stored keep their content and are sent through the new targets
// of the same name.
func (e *Engine) SetRouting(r *Routing) {
	e.PrepareRouting(r)
	e.own.Store(r)
}

// SetConfig builds cfg's routing and switches to it (BuildRouting, then
// SetRouting); on error nothing changes.
func (e *Engine) SetConfig(cfg *config.Config) error {
	r, err := e.BuildRouting(cfg)
	if err != nil {
		return err
	}
	e.SetRouting(r)
	return nil
}
