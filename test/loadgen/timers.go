package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pendingPerIncident is how many timed steps a new P2 incident leaves
// pending with the default matrix: the On-Call (2h) and Team Lead (4h)
// pages, the response and resolution SLA checks and the first update
// reminder. (P2 rather than P0 so that the preload leaves little
// immediate work: only the #alerts announcement.)
const pendingPerIncident = 5

// distinctGroups makes every id a warning alert of its own group, so
// each opens a P2 incident with its escalation timers.
type distinctGroups struct{ startsAt string }

func (distinctGroups) alertsPerRequest() int { return 1 }

func (d distinctGroups) forWorker() func(id uint64) []byte {
	return func(id uint64) []byte {
		return fmt.Appendf(nil, `{"receiver":"gw","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Preload%d","service":"preload-%d","severity":"warning"},"annotations":{"summary":"preloaded incident %d"},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"%016x"}],"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","version":"4","groupKey":"{}:{}","truncatedAlerts":0}`+"\n",
			id, id, id, d.startsAt, id+1<<60)
	}
}

// startGatewayWithTimers starts a fresh gateway and opens enough P0
// incidents through the HTTP API that at least n escalation timers are
// pending (none falls due during the run: the earliest is 5 minutes out).
func startGatewayWithTimers(n int) startFunc {
	return func(ctx context.Context, e *env) (*servers, error) {
		p, err := startGateway(ctx, e)
		if err != nil {
			return nil, err
		}
		incidents := uint64((n + pendingPerIncident - 1) / pendingPerIncident)
		c := newLoadClient(p.addrs(), e.opts.conns, distinctGroups{startsAt: time.Now().UTC().Format(time.RFC3339)})
		defer c.close()
		st := c.runCount(ctx, incidents)
		if err := failed(ctx, p, "preloading timers", &st); err != nil {
			p.stop()
			return nil, err
		}
		logf("  preloaded %s incidents (≥ %s pending timers) in %s", fmtInt(incidents), fmtInt(incidents*pendingPerIncident), st.elapsed.Round(time.Millisecond))
		// Let the gateway finish the immediate work the preload implied
		// (one announcement per incident) before the timed run.
		settle := time.Now()
		if err := waitQuiet(ctx, p.procs[0].addr, 2*time.Second, 3*time.Minute); err != nil {
			p.stop()
			return nil, err
		}
		logf("  immediate work drained in %s", time.Since(settle).Round(time.Millisecond))
		return p, nil
	}
}

// waitQuiet polls /metrics until the gateway's delivery and step counters
// stop moving for quiet, or gives up after limit.
func waitQuiet(ctx context.Context, addr string, quiet, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last, stableSince := -1.0, time.Now()
	for time.Now().Before(deadline) {
		v, err := workDone(addr)
		if err != nil {
			return err
		}
		if v != last {
			last, stableSince = v, time.Now()
		} else if time.Since(stableSince) >= quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("gateway still busy after %s", limit)
}

// workDone sums the gateway's step and delivery counters.
func workDone(addr string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "alertgate_escalation_steps_total") && !strings.HasPrefix(line, "alertgate_deliveries_total") {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum, nil
}
