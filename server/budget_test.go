package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/clocktest"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// While one body holds the decoding budget, a second that would pass it
// is answered 503 with Retry-After (the sender retries); once the first
// is stored, the second goes through.
func TestDecodingBudgetDefersWith503(t *testing.T) {
	body := `{"alerts":[{"status":"firing","name":"` + strings.Repeat("a", 200) + `"}]}`
	h := newHarness(t, config.Server{MaxDecodingBytes: len(body) + len(body)/2}, config.Source{Name: "am", Type: "test"})
	entered, release := make(chan struct{}), make(chan struct{})
	h.ing.fn = func(context.Context, []alert.Alert) (store.IngestResult, error) {
		entered <- struct{}{}
		<-release
		return store.IngestResult{Alerts: 1}, nil
	}
	first := make(chan int, 1)
	go func() {
		resp, err := h.srv.App().Test(newRequest(http.MethodPost, "/api/v1/alerts/am", body), -1)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered

	resp, got := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", body))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	require.Equal(t, "too many bodies being decoded, retry later", errorOf(t, got))
	require.Equal(t, 1, h.ing.callCount(), "the deferred body was not decoded")

	close(release)
	require.Equal(t, http.StatusOK, <-first)
	h.ing.fn = nil
	resp, _ = h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", body))
	require.Equal(t, http.StatusOK, resp.StatusCode, "the budget was given back")
	require.Zero(t, h.srv.budget.used.Load())
}

// A body larger than the whole budget still goes when it is alone.
func TestDecodingBudgetLetsALoneBodyThrough(t *testing.T) {
	h := newHarness(t, config.Server{MaxDecodingBytes: 10}, config.Source{Name: "am", Type: "test"})
	resp, _ := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am", alertBody))
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// Unset, the budget is the body limit plus a quarter: one body of the
// largest size at a time, small ones alongside.
func TestDecodingBudgetDefault(t *testing.T) {
	h := newHarness(t, config.Server{MaxBodyBytes: 1000}, config.Source{Name: "am", Type: "test"})
	require.EqualValues(t, 1250, h.srv.budget.limit)
}

// The configured alert limits apply to every decoded batch, after the
// adapter: a name over the limit is a 400 naming the field, a value over
// it is cut and stored, a hostile truncated count is clamped.
func TestIngestAppliesAlertLimits(t *testing.T) {
	limits := config.AlertLimits{MaxLabels: 2, MaxLabelNameBytes: 8, MaxLabelValueBytes: 8, MaxAnnotationBytes: 8}
	h := newHarness(t, config.Server{AlertLimits: limits}, config.Source{Name: "am", Type: "test"})
	resp, _ := h.do(t, newRequest(http.MethodPost, "/api/v1/alerts/am",
		`{"truncated":9223372036854775807,"alerts":[{"status":"firing","name":"a-very-long-title"}]}`))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "a-ver…", h.ing.calls[0][0].Title, "8 bytes, the mark included")
	require.Equal(t, 1e6, metricValue(t, h.reg, "alertgate_alerts_truncated_total", map[string]string{"source": "am"}))
}

// After a large body, when no other is being decoded, the heap is handed
// back to the system, at most once per freeEvery: a stream of large
// bodies cannot make every request pay for a full collection.
func TestDecodingBudgetFreesMemoryAfterLargeBodies(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	b := newDecodeBudget(4<<20, clk.Now)
	frees := 0
	b.free = func() { frees++ }

	b.take(largeBody)
	b.take(1)
	b.give(largeBody)
	require.Zero(t, frees, "another body is still being decoded")
	b.give(1)
	require.Zero(t, frees, "the last one was small")

	b.take(largeBody)
	b.give(largeBody)
	require.Equal(t, 1, frees)
	b.take(largeBody)
	b.give(largeBody)
	require.Equal(t, 1, frees, "within freeEvery of the last")
	require.NotNil(t, b.later, "a hand-back is deferred to the interval's end")

	// The deferred hand-back (run here by hand: its timer is real time)
	// skips while a body is being decoded, and runs when none is.
	b.take(1)
	b.freeIfIdle()
	require.Equal(t, 1, frees)
	b.give(1)
	b.freeIfIdle()
	require.Equal(t, 2, frees)

	clk.Advance(freeEvery)
	b.take(largeBody)
	b.give(largeBody)
	require.Equal(t, 3, frees)

	b.take(largeBody)
	b.give(largeBody)
	require.NotNil(t, b.later)
	b.stop()
	require.Nil(t, b.later, "shutdown cancels a deferred hand-back")
}
