package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// targetConfig pages every role and every channel through one webhook.
const targetConfig = `targets:
  - { name: sink, type: webhook, url: %q, timeout: 10s, breaker: { failures: 1000000 } }
roles:
  oncall: { targets: [sink] }
  team-lead: { targets: [sink] }
  eng-manager: { targets: [sink] }
  cto: { targets: [sink] }
communication:
  channels:
    - { name: "#incidents", severities: [P0, P1, P2, P3], targets: [sink] }
`

// startGatewayWithTarget starts a webhook on loopback that answers after
// delay (a healthy downstream at 1 ms, a hanging one at 10 s) and a
// gateway that pages every role and channel through it. The webhook lives
// as long as the run's context.
func startGatewayWithTarget(delay time.Duration) startFunc {
	return func(ctx context.Context, e *env) (*servers, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("target: %w", err)
		}
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(delay):
				w.WriteHeader(http.StatusNoContent)
			case <-r.Context().Done():
			}
		})}
		go func() { _ = srv.Serve(ln) }()
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		p, err := startGatewayConfig(ctx, e, fmt.Sprintf(targetConfig, "http://"+ln.Addr().String()+"/hook"))
		if err != nil {
			srv.Close()
			return nil, err
		}
		p.after = func() { srv.Close() }
		return p, nil
	}
}

// Behaviours of the chaos run's sink targets (chaos_sink.go). Each answers
// and returns the status it answered, 0 when it never did.

// answerNow is a healthy target: 200 at once.
func answerNow(w http.ResponseWriter, _ *http.Request) int {
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

// answerAfter is a slow but healthy target: 200 after delay.
func answerAfter(delay time.Duration) func(http.ResponseWriter, *http.Request) int {
	return func(w http.ResponseWriter, r *http.Request) int {
		select {
		case <-time.After(delay):
			w.WriteHeader(http.StatusOK)
			return http.StatusOK
		case <-r.Context().Done():
			return 0
		}
	}
}

// answer500 is a broken target: 500 to everything.
func answer500(w http.ResponseWriter, _ *http.Request) int {
	http.Error(w, "chaos: broken target", http.StatusInternalServerError)
	return http.StatusInternalServerError
}

// hang never answers: it holds the request until the client gives up or
// limit passes (then it drops the connection).
func hang(limit time.Duration) func(http.ResponseWriter, *http.Request) int {
	return func(_ http.ResponseWriter, r *http.Request) int {
		select {
		case <-time.After(limit):
		case <-r.Context().Done():
		}
		panic(http.ErrAbortHandler) // no answer at all
	}
}

// rateLimited accepts perSecond requests a second (bursts of burst) and
// answers 429 with Retry-After: 1 to the rest.
func rateLimited(perSecond float64, burst int) func(http.ResponseWriter, *http.Request) int {
	lim := rate.NewLimiter(rate.Limit(perSecond), burst)
	return func(w http.ResponseWriter, _ *http.Request) int {
		if !lim.Allow() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "chaos: slow down", http.StatusTooManyRequests)
			return http.StatusTooManyRequests
		}
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}
}
