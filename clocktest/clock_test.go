package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/clocktest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)
	require.Equal(t, start, clk.Now())
	require.Equal(t, start, clk.Now(), "time stands still until moved")
	clk.Advance(15 * time.Minute)
	require.Equal(t, start.Add(15*time.Minute), clk.Now())
	clk.Advance(-time.Minute)
	require.Equal(t, start.Add(14*time.Minute), clk.Now())
	clk.Set(start)
	require.Equal(t, start, clk.Now())
}

// Readers on other goroutines see every advance (run with -race).
func TestClockConcurrent(t *testing.T) {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := start
			for range 1000 {
				now := clk.Now()
				if now.Before(last) {
					t.Errorf("clock went back from %v to %v", last, now)
					return
				}
				last = now
			}
		}()
	}
	for range 1000 {
		clk.Advance(time.Second)
	}
	wg.Wait()
	require.Equal(t, start.Add(1000*time.Second), clk.Now())
}
