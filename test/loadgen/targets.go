package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
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
		go srv.Serve(ln)
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
