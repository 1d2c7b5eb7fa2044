package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

const (
	requestTimeout = 15 * time.Second // above the servers' 10s write timeout
	userAgent      = "Alertmanager/0.27.0"
	ingestPath     = "/api/v1/alerts/alertmanager"
	// timedBase starts the ids of timed phases above any count-bounded
	// phase, so a storm's warm-up and measurement never repeat an alert.
	timedBase = 1 << 40
)

// loadClient is a closed-loop load generator against one server or
// several replicas: conns workers each send one request at a time over
// their own keep-alive connection, worker i to replica i mod replicas
// (the connections split evenly, each staying with its replica). The
// same client serves every scenario.
type loadClient struct {
	hcs     []*fasthttp.HostClient
	workers []*worker
}

// worker owns its request, response, body function and counters.
type worker struct {
	idx  uint64
	hc   *fasthttp.HostClient // its replica
	next uint64               // timed requests sent so far
	body func(uint64) []byte
	per  uint64 // alerts per request
	req  *fasthttp.Request
	resp *fasthttp.Response
	st   phaseStats
	// track keeps, for every request answered 2xx, its id and when the
	// answer arrived (the first-page measurement).
	track bool
	acks  []ack
}

// phaseStats are one phase's outcomes; workers keep their own and they
// are merged when the phase ends.
type phaseStats struct {
	lat      histogram
	ok       uint64         // 2xx answers
	alerts   uint64         // alerts in the requests answered 2xx
	statuses map[int]uint64 // non-2xx answers by status code
	errs     uint64         // transport errors and timeouts
	firstErr string         // first failure, for the report
	elapsed  time.Duration
}

func (s *phaseStats) failures() uint64 {
	var n uint64
	for _, c := range s.statuses {
		n += c
	}
	return n + s.errs
}

// rate returns the alerts of successful requests per second.
func (s *phaseStats) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.alerts) / s.elapsed.Seconds()
}

// failureSummary describes the failures, e.g. "503×12, 1 errors (first: ...)".
func (s *phaseStats) failureSummary() string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(s.statuses)) {
		parts = append(parts, fmt.Sprintf("HTTP %d ×%d", code, s.statuses[code]))
	}
	if s.errs > 0 {
		parts = append(parts, fmt.Sprintf("%d transport errors", s.errs))
	}
	return fmt.Sprintf("%s (first: %s)", strings.Join(parts, ", "), s.firstErr)
}

func (s *phaseStats) merge(o *phaseStats) {
	s.lat.merge(&o.lat)
	s.ok += o.ok
	s.alerts += o.alerts
	s.errs += o.errs
	for code, c := range o.statuses {
		if s.statuses == nil {
			s.statuses = map[int]uint64{}
		}
		s.statuses[code] += c
	}
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

// newLoadClient connects conns workers to addrs (spread by workerAddrs),
// taking bodies from gen.
func newLoadClient(addrs []string, conns int, gen generator) *loadClient {
	c := &loadClient{}
	hcs := map[string]*fasthttp.HostClient{}
	for i, addr := range workerAddrs(addrs, conns) {
		hc := hcs[addr]
		if hc == nil {
			hc = &fasthttp.HostClient{
				Addr:                addr,
				Name:                userAgent,
				ReadTimeout:         requestTimeout,
				WriteTimeout:        requestTimeout,
				MaxIdleConnDuration: time.Minute,
				MaxConnWaitTimeout:  requestTimeout,
			}
			hcs[addr] = hc
			c.hcs = append(c.hcs, hc)
		}
		hc.MaxConns++ // one per worker of this replica
		w := &worker{idx: uint64(i), hc: hc, body: gen.forWorker(), per: uint64(gen.alertsPerRequest()), req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
		w.req.SetRequestURI("http://" + addr + ingestPath)
		w.req.Header.SetMethod(fasthttp.MethodPost)
		w.req.Header.SetContentType("application/json")
		w.req.Header.SetUserAgent(userAgent)
		c.workers = append(c.workers, w)
	}
	return c
}

// setPath points every worker at path on its server (Alertmanager's
// /api/v2/alerts instead of the gateway's ingest path).
func (c *loadClient) setPath(path string) {
	for _, w := range c.workers {
		w.req.SetRequestURI("http://" + w.hc.Addr + path)
	}
}

// workerAddrs returns the address of each of conns workers: round-robin
// over addrs, so each address gets conns/len(addrs) workers, the first
// conns%len(addrs) one more.
func workerAddrs(addrs []string, conns int) []string {
	out := make([]string, conns)
	for i := range out {
		out[i] = addrs[i%len(addrs)]
	}
	return out
}

// close releases the workers' buffers and idle connections.
func (c *loadClient) close() {
	for _, w := range c.workers {
		fasthttp.ReleaseRequest(w.req)
		fasthttp.ReleaseResponse(w.resp)
	}
	for _, hc := range c.hcs {
		hc.CloseIdleConnections()
	}
}

// trackAcks starts (or stops) keeping the acks of the next phases and
// forgets those kept.
func (c *loadClient) trackAcks(on bool) {
	for _, w := range c.workers {
		w.track, w.acks = on, nil
	}
}

// acks returns every worker's acks.
func (c *loadClient) acks() []ack {
	var out []ack
	for _, w := range c.workers {
		out = append(out, w.acks...)
	}
	return out
}

// runCount sends requests 0..n-1 once each, worker i taking ids i, i+conns, …
func (c *loadClient) runCount(ctx context.Context, n uint64) phaseStats {
	conns := uint64(len(c.workers))
	return c.run(func(w *worker) {
		for id := w.idx; id < n && ctx.Err() == nil; id += conns {
			w.send(id)
		}
	})
}

// runFor sends as fast as answers come back until d has passed: each
// worker stops starting requests at the deadline and the phase lasts until
// the last answer.
func (c *loadClient) runFor(ctx context.Context, d time.Duration) phaseStats {
	conns := uint64(len(c.workers))
	deadline := time.Now().Add(d)
	return c.run(func(w *worker) {
		for ctx.Err() == nil && time.Now().Before(deadline) {
			w.send(timedBase + w.next*conns + w.idx)
			w.next++
		}
	})
}

// run runs loop on every worker and merges their stats.
func (c *loadClient) run(loop func(*worker)) phaseStats {
	var wg sync.WaitGroup
	start := time.Now()
	for _, w := range c.workers {
		w.st = phaseStats{}
		wg.Go(func() { loop(w) })
	}
	wg.Wait()
	total := phaseStats{elapsed: time.Since(start)}
	for _, w := range c.workers {
		total.merge(&w.st)
	}
	return total
}

// send posts request id (alert id when a request carries one) and records
// the outcome.
func (w *worker) send(id uint64) {
	w.req.SetBodyRaw(w.body(id))
	start := time.Now()
	err := w.hc.Do(w.req, w.resp)
	end := time.Now()
	lat := end.Sub(start)
	switch code := w.resp.StatusCode(); {
	case err != nil:
		w.st.errs++
		w.fail(err.Error())
	case code >= 200 && code < 300:
		w.st.ok++
		w.st.alerts += w.per
		w.st.lat.record(lat)
		if w.track {
			w.acks = append(w.acks, ack{id: id, at: end})
		}
	default:
		if w.st.statuses == nil {
			w.st.statuses = map[int]uint64{}
		}
		w.st.statuses[code]++
		w.fail(fmt.Sprintf("HTTP %d: %.200s", code, w.resp.Body()))
	}
}

func (w *worker) fail(msg string) {
	if w.st.firstErr == "" {
		w.st.firstErr = msg
	}
}
