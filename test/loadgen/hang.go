package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// hangConfig pages oncall through two webhooks: one that never answers
// (bounded by the largest timeout allowed) and a healthy one.
const hangConfig = `targets:
  - { name: hang, type: webhook, url: %q, timeout: 60s }
  - { name: ok, type: webhook, url: %q, timeout: 10s }
roles:
  oncall: { targets: [hang, ok] }
  team-lead: { targets: [hang, ok] }
  eng-manager: { targets: [hang, ok] }
  cto: { targets: [hang, ok] }
communication:
  channels: []
`

// hangResult is the healthy target's first-page lateness with another
// target hanging.
type hangResult struct {
	Rate      int
	Duration  time.Duration
	Incidents int
	Paged     int // incidents whose first page reached ok
	P50, P99  time.Duration
	Max       time.Duration
}

// runHangLateness opens rate new P0 incidents a second for d on a fresh
// gateway whose oncall pages a hanging target and a healthy one, and
// measures, per incident, the time from sending its alert to the arrival
// of its first page at the healthy target.
func runHangLateness(ctx context.Context, e *env, rate int, d time.Duration) (*hangResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	ok, err := serveSink(ctx, func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key") // INC-n/page/oncall#0/ok
		if inc, rest, found := strings.Cut(key, "/"); found && strings.HasPrefix(rest, "page/oncall#0/") {
			mu.Lock()
			if _, seen := arrived[inc]; !seen {
				arrived[inc] = time.Now()
			}
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})
	if err != nil {
		return nil, err
	}
	hang, err := serveSink(ctx, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	if err != nil {
		return nil, err
	}
	p, err := startGatewayConfig(ctx, e, fmt.Sprintf(hangConfig, hang+"/hook", ok+"/hook"))
	if err != nil {
		return nil, err
	}
	defer p.stop()
	url := "http://" + p.addrs()[0] + "/api/v1/alerts/alertmanager"
	client := &http.Client{Timeout: 10 * time.Second}
	sent := map[string]time.Time{}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	n := int(d.Seconds() * float64(rate))
	start := time.Now()
	for i := range n {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		body := fmt.Sprintf(`{"receiver":"gw","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Hang%d","service":"hang-%d","severity":"critical"},"annotations":{"summary":"hang test %d"},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"%016x"}],"version":"4","groupKey":"{}:{}"}`,
			i, i, i, start.UTC().Format(time.RFC3339), uint64(i)+1<<61)
		at := time.Now()
		resp, err := client.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		var res struct {
			Incidents []string `json:"incidents"`
		}
		err = json.NewDecoder(resp.Body).Decode(&res)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(res.Incidents) != 1 {
			return nil, fmt.Errorf("ingest: HTTP %d, %v, incidents %v", resp.StatusCode, err, res.Incidents)
		}
		sent[res.Incidents[0]] = at
	}
	// The last pages get a few seconds to arrive.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := len(arrived) >= len(sent)
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	res := &hangResult{Rate: rate, Duration: d, Incidents: len(sent)}
	var late []time.Duration
	for inc, at := range sent {
		got, ok := arrived[inc]
		if !ok {
			late = append(late, time.Since(at)) // not arrived: at least this late
			continue
		}
		res.Paged++
		late = append(late, got.Sub(at))
	}
	slices.Sort(late)
	if len(late) > 0 {
		res.P50, res.P99, res.Max = late[len(late)/2], late[min(len(late)-1, len(late)*99/100)], late[len(late)-1]
	}
	return res, nil
}

// serveSink serves h on loopback until ctx ends and returns its base URL.
func serveSink(ctx context.Context, h http.HandlerFunc) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("sink: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: h}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

// write adds the figure to the report.
func (r *hangResult) write(w io.Writer) {
	_, _ = fmt.Fprintf(w, "\n**Healthy target's first page with another target hanging** (oncall pages `hang`, which never answers, `timeout: 60s`, and `ok`; %d new P0 incidents/s for %s): "+
		"%d of %d first pages reached `ok`; lateness from sending the alert: p50 %s, p99 %s, max %s.\n",
		r.Rate, r.Duration, r.Paged, r.Incidents, fmtDur(r.P50), fmtDur(r.P99), fmtDur(r.Max))
}
