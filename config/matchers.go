package config

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// maxCheckedMatchers bounds checkedMatchers: the built-in rules' matchers
// and a config's own fit many times over.
const maxCheckedMatchers = 4096

var (
	// checkedMatchers remembers the outcome of checkMatcher per matcher
	// text (an error or nil): parsing compiles regular expressions, and
	// every Load validates the built-in rules again. The outcome depends
	// only on the text.
	checkedMatchers sync.Map
	checkedCount    atomic.Int64
)

// checkMatcher reports whether m is a valid Alertmanager matcher
// ("severity=~\"critical|page\"").
func checkMatcher(m string) error {
	if err, ok := checkedMatchers.Load(m); ok {
		e, _ := err.(error)
		return e
	}
	_, err := labels.ParseMatcher(m)
	if checkedCount.Load() < maxCheckedMatchers {
		if _, loaded := checkedMatchers.LoadOrStore(m, err); !loaded {
			checkedCount.Add(1)
		}
	}
	return err
}
