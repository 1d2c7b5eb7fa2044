package clocktest

import (
	"sync"
	"time"
)

// Clock is a settable clock, safe for concurrent use: the code under test
// may read it from its own goroutines while the test advances it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock that reads start until it is moved.
func New(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time; pass the method value (clk.Now) where a
// now func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (back for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
