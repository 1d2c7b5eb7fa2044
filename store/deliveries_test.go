package store

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

// gauges gathers a collector's gauges as "<first label>/<second label>"
// → value.
func gauges(t *testing.T, c prometheus.Collector, first, second string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			vals := map[string]string{}
			for _, l := range m.GetLabel() {
				vals[l.GetName()] = l.GetValue()
			}
			out[vals[first]+"/"+vals[second]] = m.GetGauge().GetValue()
		}
	}
	return out
}

// queueGauges gathers alertgate_delivery_queue as "target/state" → value.
func queueGauges(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	return gauges(t, c, "target", "state")
}

func TestQueueCollectorExportsEveryTargetWithZero(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *engineDB) {
		ctx := context.Background()
		clk := newClock()
		s := db.openTest(t, clk)
		c := s.QueueCollector(func() []string { return []string{"sink", "log"} })

		require.Equal(t, map[string]float64{
			"sink/pending": 0, "sink/running": 0, "sink/dead": 0,
			"log/pending": 0, "log/running": 0, "log/dead": 0,
		}, queueGauges(t, c), "an empty queue is exported as zeros")

		_, err := s.Ingest(ctx, []alert.Alert{firing("HighErrorRate", "checkout", "a1")})
		require.NoError(t, err)
		step := func(tx *Tx, j *Job, inc *alert.Incident) (StepOutcome, error) {
			return StepOutcome{Jobs: []JobSpec{{Key: j.Key + "/sink", Kind: KindDelivery, DueAt: clk.Now(), StopOn: j.StopOn, Target: "sink", Action: "page"}}}, nil
		}
		_, err = s.RunSteps(ctx, clk.Now(), 10, step)
		require.NoError(t, err)
		got := queueGauges(t, c)
		require.Equal(t, 1.0, got["sink/pending"])
		require.Equal(t, 0.0, got["log/pending"])

		_, err = s.ClaimDeliveries(ctx, clk.Now(), time.Minute, anyTarget(10))
		require.NoError(t, err)
		got = queueGauges(t, c)
		require.Equal(t, 0.0, got["sink/pending"])
		require.Equal(t, 1.0, got["sink/running"])

		require.NotEmpty(t, queueGauges(t, s.QueueCollector(nil)), "a delivery of an unnamed target is still counted")
	})
}
