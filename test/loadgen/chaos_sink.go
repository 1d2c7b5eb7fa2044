package main

import (
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

// chaosTargets are the sink targets of a chaos run, one webhook each, all
// paged by every role: two that answer (at once, and after a second), one
// that rate-limits with 429 and Retry-After, one that answers 500 and one
// that hangs past the gateway's timeout.
var chaosTargets = []struct {
	chaosTarget
	handler func(http.ResponseWriter, *http.Request) int
	config  string // the target's config beyond name, type and url
}{
	{chaosTarget{Name: "healthy", Class: answers, Healthy: true, Describe: "200 at once"}, answerNow, ""},
	{chaosTarget{Name: "slow", Class: answers, Describe: "200 after 1 s"}, answerAfter(time.Second), "timeout: 5s"},
	{chaosTarget{Name: "limited", Class: answers, Describe: "200 to 2 requests/s (bursts of 4), 429 with Retry-After: 1 to the rest"}, rateLimited(2, 4), ""},
	{chaosTarget{Name: "broken", Class: fails, Describe: "500 to everything"}, answer500, ""},
	{chaosTarget{Name: "hanging", Class: fails, Describe: "never answers (gateway timeout 2 s)"}, hang(30 * time.Second), "timeout: 2s"},
}

// chaosSink serves every chaos target on one loopback listener, one path
// per target, and records each request.
type chaosSink struct {
	srv  *http.Server
	url  string
	mu   sync.Mutex
	recs []receptionRow
}

func startChaosSink() (*chaosSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos sink: %w", err)
	}
	s := &chaosSink{url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	for _, t := range chaosTargets {
		mux.Handle("/"+t.Name, s.record(t.Name, t.handler))
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// record wraps a target's behaviour: each request is kept with its
// arrival time, Idempotency-Key, message kind and the status answered.
func (s *chaosSink) record(target string, h func(http.ResponseWriter, *http.Request) int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var body struct {
			Kind string `json:"kind"`
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		_ = json.Unmarshal(b, &body) // an undecodable body has kind ""
		status := 0
		defer func() {
			s.mu.Lock()
			s.recs = append(s.recs, receptionRow{Target: target, Key: r.Header.Get("Idempotency-Key"), Kind: body.Kind, At: at, Status: status})
			s.mu.Unlock()
		}()
		status = h(w, r)
	})
}

// receptions returns the requests received so far, in arrival order.
func (s *chaosSink) receptions() []receptionRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]receptionRow(nil), s.recs...)
	sortReceptions(out)
	return out
}

func (s *chaosSink) close() { s.srv.Close() }

// targetsConfig is the config of the chaos targets, roles and matrix.
func (s *chaosSink) targetsConfig() string {
	var b strings.Builder
	names := make([]string, len(chaosTargets))
	b.WriteString("targets:\n")
	for i, t := range chaosTargets {
		names[i] = t.Name
		extra := ""
		if t.config != "" {
			extra = ", " + t.config
		}
		fmt.Fprintf(&b, "  - { name: %s, type: webhook, url: %q%s }\n", t.Name, s.url+"/"+t.Name, extra)
	}
	b.WriteString("roles:\n")
	for _, role := range []string{"oncall", "team-lead", "eng-manager", "cto"} {
		fmt.Fprintf(&b, "  %s: { targets: [%s] }\n", role, strings.Join(names, ", "))
	}
	b.WriteString(chaosMatrix)
	return b.String()
}

// chaosMatrix makes every page step of a P0 or P1 incident fall due within
// 10 s of its opening; cto is never paged.
const chaosMatrix = `escalation:
  matrix:
    - { role: oncall, stop_on: acknowledged, P0: now, P1: now, P2: 2h, P3: 1d }
    - { role: team-lead, stop_on: acknowledged, P0: 5s, P1: 10s, P2: 4h, P3: next-day }
    - { role: eng-manager, stop_on: resolved, P0: 10s, P1: never, P2: next-day, P3: weekly }
    - { role: cto, stop_on: resolved, P0: never, P1: never, P2: weekly, P3: monthly }
communication:
  channels: []
`

// chaosPlanFor is what chaosMatrix and chaosTargets make the gateway do.
func chaosPlanFor() chaosPlan {
	p := chaosPlan{Steps: map[int][]chaosStep{
		0: {{"oncall#0", 0}, {"team-lead#0", 5 * time.Second}, {"eng-manager#0", 10 * time.Second}},
		1: {{"oncall#0", 0}, {"team-lead#0", 10 * time.Second}},
	}}
	for _, t := range chaosTargets {
		p.Targets = append(p.Targets, t.chaosTarget)
	}
	return p
}

// sortReceptions orders receptions by arrival.
func sortReceptions(rs []receptionRow) {
	slices.SortStableFunc(rs, func(a, b receptionRow) int { return a.At.Compare(b.At) })
}
