package test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// postgresSchemaDSN returns ALERTGATE_TEST_POSTGRES_DSN pointed at a fresh
// schema (dropped after the test), or skips the test.
func postgresSchemaDSN(t testing.TB, prefix string) string {
	t.Helper()
	dsn := os.Getenv("ALERTGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PostgreSQL tests skipped: set ALERTGATE_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	schema := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE SCHEMA ` + schema)
	require.NoError(t, err)
	t.Cleanup(func() { db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); db.Close() })
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// tcpProxy forwards connections to a backend until cut, like a network
// partition between the gateway and its database.
type tcpProxy struct {
	addr, backend string
	mu            sync.Mutex
	ln            net.Listener
	conns         map[net.Conn]struct{}
}

func newTCPProxy(t *testing.T, backend string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{backend: backend, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[b] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
}

// cut closes the listener and every open connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address.
func (p *tcpProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.serve(ln)
}

// While the database is unreachable the gateway says so: /readyz fails and
// ingest answers 503 (Alertmanager retries), for new alerts and repeats
// alike, rather than accepting what it cannot store. When the database
// comes back, so does the gateway.
func TestPostgresOutageAnswers503(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	dsn := postgresSchemaDSN(t, "outage")
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	cfg := onPostgres(t, issueConfig, u.String(), "connect_timeout: 2s")
	sk := newSink(t)
	g := startRealGateway(t, cfg, sk)

	post := func(name string) int {
		body := fmt.Sprintf(`{"version":"4","status":"firing","receiver":"gw","groupKey":"{}:{alertname=%[1]s}","alerts":[
{"status":"firing","labels":{"alertname":%[1]q,"service":"checkout","severity":"critical"},"annotations":{},"startsAt":"2026-11-27T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"%[1]s"}]}`, name)
		req, err := http.NewRequest(http.MethodPost, g+"/api/v1/alerts/alertmanager", bytes.NewBufferString(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer s3cret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	status := func(path string) int {
		resp, err := http.Get(g + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	require.Equal(t, http.StatusOK, post("CheckoutDown"))
	require.Equal(t, http.StatusOK, post("CheckoutDown"), "a repeat")
	require.Equal(t, http.StatusOK, status("/readyz"))

	proxy.cut()
	require.Equal(t, http.StatusServiceUnavailable, status("/readyz"))
	require.Equal(t, http.StatusOK, status("/healthz"), "the process is alive, only not ready")
	require.Equal(t, http.StatusServiceUnavailable, post("CartDown"), "a new alert cannot be stored")
	require.Equal(t, http.StatusServiceUnavailable, post("CheckoutDown"), "a repeat cannot be confirmed")

	proxy.restore(t)
	require.Eventually(t, func() bool { return status("/readyz") == http.StatusOK }, 15*time.Second, 50*time.Millisecond)
	require.Equal(t, http.StatusOK, post("CartDown"))
	var list struct {
		Incidents []struct{ ID string } `json:"incidents"`
	}
	getJSON(t, g+"/api/v1/incidents", &list)
	require.Len(t, list.Incidents, 2, "both alerts' incidents are stored once the database is back")
}
