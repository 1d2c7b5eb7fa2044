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

// idleResult is the idle-cost measurement: a gateway holding open
// incidents and receiving nothing.
type idleResult struct {
	Incidents uint64
	Window    time.Duration
	WriteTxs  float64       // writer transactions begun in the window
	CPU       time.Duration // the gateway's CPU time in the window
}

func (r idleResult) txPerSecond() float64 { return r.WriteTxs / r.Window.Seconds() }

// corePercent is the gateway's CPU in % of one core.
func (r idleResult) corePercent() float64 { return 100 * r.CPU.Seconds() / r.Window.Seconds() }

// idleSettle is how long the gateway is left alone after the preload and
// its immediate work before the window starts.
const idleSettle = 5 * time.Second

// runIdle starts a fresh gateway, opens n incidents (each a P2 with its
// pending escalation timers), waits until the immediate work is done and
// then counts the writer's transactions and the process's CPU time over
// window with no requests.
func runIdle(ctx context.Context, e *env, n int, window time.Duration) (idleResult, error) {
	res := idleResult{Incidents: uint64(n), Window: window}
	p, err := startGatewayWithTimers(n*pendingPerIncident)(ctx, e)
	if err != nil {
		return res, err
	}
	defer p.stop()
	if err := sleep(ctx, idleSettle); err != nil {
		return res, err
	}
	addr := p.procs[0].addr
	tx0, err := metricValue(addr, "alertgate_store_write_transactions_total")
	if err != nil {
		return res, err
	}
	cpu0, err := p.cpuTime()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := sleep(ctx, window); err != nil {
		return res, err
	}
	cpu1, err := p.cpuTime()
	if err != nil {
		return res, err
	}
	tx1, err := metricValue(addr, "alertgate_store_write_transactions_total")
	if err != nil {
		return res, err
	}
	res.Window = time.Since(start)
	res.WriteTxs, res.CPU = tx1-tx0, cpu1-cpu0
	logf("  idle with %s open incidents: %.2f write transactions/s, %.2f %% of a core", fmtInt(res.Incidents), res.txPerSecond(), res.corePercent())
	return res, nil
}

// metricValue reads one unlabelled sample from the gateway's /metrics
// (the /metrics scrape itself is a read).
func metricValue(addr, name string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	return parseMetric(string(body), name)
}

// parseMetric finds `name value` in a Prometheus text exposition.
func parseMetric(text, name string) (float64, error) {
	for line := range strings.SplitSeq(text, "\n") {
		rest, ok := strings.CutPrefix(line, name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			return 0, fmt.Errorf("metric %s: %w", name, err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("metric %s not exposed (gateway too old?)", name)
}
