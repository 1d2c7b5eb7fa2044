package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/rules"
)

// The first page of each new P0 incident of an incident storm: the
// gateways of the report's rows page the on-call role through pagerConfig,
// a webhook on loopback (pageSink) that records when the first page of
// each incident arrived, by the incident's service. The client records
// when each request's 2xx arrived; matchFirstPages pairs them.

// pagerConfig makes the on-call role page the recording sink (instead of
// the built-in log target); the other roles and the channels keep the
// defaults. The breaker never opens: a slow answer must show as lateness,
// not as pages dropped.
const pagerConfig = `targets:
  - { name: pager, type: webhook, url: %q, timeout: 10s, breaker: { failures: 1000000 } }
roles:
  oncall: { targets: [pager] }
`

// firstPageTarget is the bound on the first page's p99 after the
// alert's 2xx during the incident storm; informational.
const firstPageTarget = 250 * time.Millisecond

// firstPageGrace is how long the pages of the last incidents of the
// measured phase may take to arrive before they count as missing (at
// least this late).
const firstPageGrace = 10 * time.Second

// pageSink is the on-call webhook of the gateway rows. It answers 204 at
// once and keeps the arrival of the first page of every incident, keyed
// by the incident's service (each alert of the incident workloads has a
// service of its own).
type pageSink struct {
	url   string
	mu    sync.Mutex
	first map[string]pageArrival
}

// pageArrival is the first page of one incident.
type pageArrival struct {
	at       time.Time
	severity string
}

// startPageSink serves a pageSink on loopback until ctx ends.
func startPageSink(ctx context.Context) (*pageSink, error) {
	s := &pageSink{first: map[string]pageArrival{}}
	u, err := serveSink(ctx, s.serve)
	if err != nil {
		return nil, err
	}
	s.url = u + "/page"
	return s, nil
}

// pageBody is what the sink reads of the webhook's default payload.
type pageBody struct {
	Kind     string `json:"kind"`
	Incident struct {
		Severity string `json:"severity"`
		Service  string `json:"service"`
	} `json:"incident"`
}

func (s *pageSink) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	var b pageBody
	err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&b)
	w.WriteHeader(http.StatusNoContent)
	if err != nil || b.Kind != "page" || b.Incident.Service == "" {
		return
	}
	s.mu.Lock()
	if _, seen := s.first[b.Incident.Service]; !seen {
		s.first[b.Incident.Service] = pageArrival{at: at, severity: b.Incident.Severity}
	}
	s.mu.Unlock()
}

// reset forgets every page (a new row starts).
func (s *pageSink) reset() {
	s.mu.Lock()
	clear(s.first)
	s.mu.Unlock()
}

// arrived returns the first page of service, if it came.
func (s *pageSink) arrived(service string) (pageArrival, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.first[service]
	return p, ok
}

// waitFor waits until every service in want has had its first page, or
// grace has passed, and returns when it stopped waiting.
func (s *pageSink) waitFor(ctx context.Context, want []string, grace time.Duration) time.Time {
	deadline := time.Now().Add(grace)
	for i := 0; ; {
		for ; i < len(want); i++ {
			if _, ok := s.arrived(want[i]); !ok {
				break
			}
		}
		if i == len(want) || !time.Now().Before(deadline) || sleep(ctx, 20*time.Millisecond) != nil {
			return time.Now()
		}
	}
}

// ack is one request answered 2xx: its id and when the answer arrived.
type ack struct {
	id uint64
	at time.Time
}

// firstPages is the first-page lateness of one row: for every new P0
// incident opened in the measured phase, first page received − 2xx
// received.
type firstPages struct {
	Incidents int // new P0 incidents answered 2xx in the measured phase
	Paged     int // of which the first page arrived
	// Early counts pages that arrived before the client had read the 2xx
	// (counted as 0).
	Early int
	// Wrong counts first pages of a severity other than P0 for alerts the
	// rules classify P0 (0 unless the binary classifies differently).
	Wrong         int
	P50, P99, Max time.Duration
}

// matchFirstPages pairs the acks of P0 requests with the first pages.
// A page that never came counts as late as waited − the 2xx, and not as
// paged.
func matchFirstPages(acks []ack, isP0 func(id uint64) bool, service func(id uint64) string,
	arrived func(service string) (pageArrival, bool), waited time.Time) firstPages {
	var fp firstPages
	var late []time.Duration
	for _, a := range acks {
		if !isP0(a.id) {
			continue
		}
		fp.Incidents++
		p, ok := arrived(service(a.id))
		if !ok {
			late = append(late, waited.Sub(a.at))
			continue
		}
		fp.Paged++
		if p.severity != alert.P0.String() {
			fp.Wrong++
		}
		d := p.at.Sub(a.at)
		if d < 0 {
			fp.Early++
			d = 0
		}
		late = append(late, d)
	}
	if n := len(late); n > 0 {
		slices.Sort(late)
		fp.P50, fp.P99, fp.Max = late[nearestRank(n, 50)], late[nearestRank(n, 99)], late[n-1]
	}
	return fp
}

// nearestRank is the index of the p-th percentile of n sorted values.
func nearestRank(n, p int) int {
	i := (n*p + 99) / 100 // ceil(n·p/100), 1-based
	return min(max(i, 1), n) - 1
}

// missing is how many first pages never came.
func (f *firstPages) missing() int { return f.Incidents - f.Paged }

// p0Templates classifies the first alert of every template of gen (id g
// uses template g % numGroups) with the rules of the gateway config the
// tool writes (the default rules), through the Alertmanager adapter, as
// the gateway does. It returns which templates make P0 incidents.
func p0Templates(gen generator) ([]bool, error) {
	cfg, err := config.LoadBytes("loadgen.yml", []byte("sources:\n  - { name: alertmanager, type: alertmanager }\n"))
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	eng, err := rules.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	dec, err := adapters.New(cfg.Sources[0])
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	body := gen.forWorker()
	out := make([]bool, numGroups)
	for g := range out {
		batch, err := dec.Decode(http.Header{}, body(uint64(g)))
		if err != nil {
			return nil, fmt.Errorf("classify template %d: %w", g, err)
		}
		if len(batch.Alerts) == 0 {
			return nil, fmt.Errorf("classify template %d: no alerts", g)
		}
		out[g] = eng.Evaluate(&batch.Alerts[0]).Severity == alert.P0
	}
	return out, nil
}

// write adds the first-page table to the report.
func writeFirstPages(b io.Writer, results []result) {
	var rows []result
	for _, r := range results {
		if r.FirstPages != nil {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "**First page of each new P0 incident during the storm** (the gateway rows page the on-call role through a webhook on "+
		"loopback that answers at once; lateness = first page received − the alert's 2xx received, both on this machine's clock; "+
		"a page that did not come within %s of the end of the measured phase counts as that late; a page that came before the client had "+
		"read its alert's 2xx — it leaves once the commit is durable, which may be before the answer is written — counts as 0 and in "+
		"*before the 2xx*):\n\n", firstPageGrace)
	io.WriteString(b, "| workload | server | new P0 incidents | paged | before the 2xx | p50 | p99 | max | p99 ≤ 250 ms |\n|---|---|--:|--:|--:|--:|--:|--:|:-:|\n")
	for _, r := range rows {
		f := r.FirstPages
		paged := fmtInt(uint64(f.Paged))
		if f.missing() > 0 {
			paged = fmt.Sprintf("**%s** (%s missing)", paged, fmtInt(uint64(f.missing())))
		}
		if f.Wrong > 0 {
			paged += fmt.Sprintf(" (%d not P0)", f.Wrong)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Workload, r.Server, fmtInt(uint64(f.Incidents)), paged,
			fmtInt(uint64(f.Early)), fmtDur(f.P50), fmtDur(f.P99), fmtDur(f.Max), passFail(f.Incidents > 0 && f.missing() == 0 && f.P99 <= firstPageTarget))
	}
	io.WriteString(b, "\n")
}
