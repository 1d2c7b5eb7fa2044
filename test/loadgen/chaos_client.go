package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// chaosClient posts Alertmanager alerts at a steady rate, one per
// request; a request that fails (the gateway is down, or answers 5xx or
// 429) is tried again, as Alertmanager would, until a deadline.
type chaosClient struct {
	g   *chaosGateway
	o   chaosOptions
	rng *rand.Rand

	mu    sync.Mutex
	sent  map[string]int // fingerprint → group
	acked map[string]bool
	st    chaosClientStats
}

// chaosClientStats counts the client's requests.
type chaosClientStats struct {
	Posts, Repeats, Requests, ConnErrors, GaveUp int
	Status                                       map[int]int
}

func (s chaosClientStats) summary() string {
	return fmt.Sprintf("%d posts (%d repeats) in %d requests; %d connection errors, answers %v, %d given up", s.Posts, s.Repeats, s.Requests, s.ConnErrors, s.Status, s.GaveUp)
}

func newChaosClient(g *chaosGateway, o chaosOptions) *chaosClient {
	return &chaosClient{g: g, o: o, rng: rand.New(rand.NewPCG(13, 7)), sent: map[string]int{}, acked: map[string]bool{},
		st: chaosClientStats{Status: map[int]int{}}}
}

type chaosPost struct {
	fp    string
	group int
	body  []byte
}

// run posts for d at the client's rate from o.conns connections, then
// waits until every post got a 2xx or was given up (30 s after the load).
func (c *chaosClient) run(ctx context.Context, d time.Duration) {
	work := make(chan chaosPost, c.o.conns)
	giveUp := time.Now().Add(d + 30*time.Second)
	var wg sync.WaitGroup
	for range c.o.conns {
		wg.Go(func() {
			for p := range work {
				c.post(ctx, p, giveUp)
			}
		})
	}
	startsAt := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	tick := time.NewTicker(time.Duration(float64(time.Second) / c.o.rate))
	end := time.After(d)
	var order []string // fingerprints in the order first sent
	next := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
		}
		var p chaosPost
		if len(order) > 0 && c.rng.IntN(4) == 0 {
			// A repeat, as Alertmanager re-sends firing alerts.
			fp := order[c.rng.IntN(len(order))]
			p = chaosAlert(fp, c.sent[fp], startsAt)
			c.note(func() { c.st.Repeats++ })
		} else {
			fp := fmt.Sprintf("%016x", uint64(next)|0xc4a05<<40)
			c.mu.Lock()
			c.sent[fp] = next / c.o.groupSize
			c.mu.Unlock()
			p = chaosAlert(fp, next/c.o.groupSize, startsAt)
			order = append(order, fp)
			next++
		}
		c.note(func() { c.st.Posts++ })
		select {
		case work <- p:
		case <-ctx.Done():
			break loop
		}
	}
	tick.Stop()
	close(work)
	wg.Wait()
}

// chaosAlert is the post of alert fp of group g: P1 for every third group,
// else P0 (critical).
func chaosAlert(fp string, g int, startsAt string) chaosPost {
	sev := "critical"
	if g%3 == 2 {
		sev = "P1"
	}
	body := fmt.Appendf(nil, `{"receiver":"gw","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Chaos%04d","service":"svc%04d","instance":"host-%s","severity":%q},"annotations":{"summary":"chaos group %d"},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":%q}],"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","version":"4","groupKey":"{}:{}","truncatedAlerts":0}`+"\n",
		g, g, fp, sev, g, startsAt, fp)
	return chaosPost{fp: fp, group: g, body: body}
}

var chaosHTTP = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

// postAlert posts body and returns the status.
func postAlert(ctx context.Context, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := chaosHTTP.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (c *chaosClient) post(ctx context.Context, p chaosPost, giveUp time.Time) {
	for ctx.Err() == nil {
		if time.Now().After(giveUp) {
			c.note(func() { c.st.GaveUp++ })
			return
		}
		status, err := postAlert(ctx, c.g.url()+"/api/v1/alerts/alertmanager", p.body)
		c.note(func() {
			c.st.Requests++
			if err != nil {
				c.st.ConnErrors++
			} else {
				c.st.Status[status]++
			}
		})
		switch {
		case err == nil && status/100 == 2:
			c.note(func() { c.acked[p.fp] = true })
			return
		case err == nil && status/100 == 4 && status != 429:
			return // the gateway refused it: counted in Status
		}
		_ = sleep(ctx, 100*time.Millisecond)
	}
}

func (c *chaosClient) note(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn()
}

func (c *chaosClient) stats() chaosClientStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Status = map[int]int{}
	for k, v := range c.st.Status {
		st.Status[k] = v
	}
	return st
}
