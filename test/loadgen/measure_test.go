package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadCPUTime(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want time.Duration
		err  bool
	}{
		// utime 250 + stime 50 ticks; the command name holds spaces and a ')'.
		{name: "fields after the name", stat: "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 1000 200",
			want: 3 * time.Second},
		{name: "truncated", stat: "42 (x) S 1 2", err: true},
		{name: "no name", stat: "42 x S", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stat")
			require.NoError(t, os.WriteFile(path, []byte(tc.stat), 0o600))
			got, err := readCPUTime(path)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	// This process has a stat file that parses.
	_, err := readCPUTime(fmt.Sprintf("/proc/%d/stat", os.Getpid()))
	require.NoError(t, err)
}

func TestRowDelta(t *testing.T) {
	got := rowDelta(map[string]int64{"alerts": 10, "jobs": 5, "gone": 2, "same": 3},
		map[string]int64{"alerts": 12, "jobs": 4, "new": 7, "same": 3})
	require.Equal(t, map[string]int64{"alerts": 2, "jobs": -1, "new": 7, "gone": -2}, got)
}

// Every request of the incident workloads is a group of its own; the
// Alertmanager API bodies carry the same alerts.
func TestIncidentBodies(t *testing.T) {
	startsAt := time.Date(2026, 8, 24, 10, 34, 30, 583e6, time.UTC)
	for _, n := range []int{1, 25} {
		t.Run(fmt.Sprintf("%d per request", n), func(t *testing.T) {
			hook, err := newStormOf(tmplOpts{n: n, newGroup: true}, startsAt)
			require.NoError(t, err)
			api, err := newStormOf(tmplOpts{n: n, newGroup: true, api: true}, startsAt)
			require.NoError(t, err)
			hb, ab := hook.forWorker(), api.forWorker()
			groups := map[string]bool{}
			for _, id := range []uint64{0, 1, 100, 101, 1<<40 + 3} {
				var msg webhookMessage
				body := hb(id)
				require.NoError(t, json.Unmarshal(body, &msg))
				require.Len(t, msg.Alerts, n)
				require.NotContains(t, string(body), servicePlaceholder)
				svc := fmt.Sprintf("svc-%012d", id*uint64(n)%1_000_000_000_000)
				require.Equal(t, svc, msg.GroupLabels["service"])
				require.Contains(t, msg.Alerts[0].Annotations["summary"], svc)
				groups[msg.GroupLabels["alertname"]+"/"+svc] = true

				var posted []postableAlert
				require.NoError(t, json.Unmarshal(ab(id), &posted))
				require.Len(t, posted, n)
				for j, a := range posted {
					require.Equal(t, msg.Alerts[j].Labels, a.Labels, "alert %d of request %d", j, id)
					require.Equal(t, startsAt, a.StartsAt)
				}
			}
			require.Len(t, groups, 5, "a new group per request")
		})
	}
}

// The ceiling answers 200 only after the body is in the file, 400 to a
// bad body, and commits concurrent requests together.
func TestAppendCeiling(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	defer f.Close()
	a := newAppender(f)
	defer a.close()
	app := newBaselineApp(a.handler)

	s, err := newStorm(time.Now())
	require.NoError(t, err)
	body := bytes.Clone(s.forWorker()(1))
	req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/alertmanager", bytes.NewReader(body))
	resp, err := app.Test(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, body, got)

	resp, err = app.Test(httptest.NewRequest(http.MethodPost, "/api/v1/alerts/alertmanager", strings.NewReader("{")))
	require.NoError(t, err)
	require.Equal(t, 400, resp.StatusCode)

	// Concurrent requests over HTTP: every body is in the file, whole.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	c := newLoadClient([]string{ln.Addr().String()}, 8, s)
	defer c.close()
	st := c.runCount(context.Background(), 200)
	require.Zero(t, st.failures(), st.failureSummary())
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 201, bytes.Count(got, []byte("\n")), "one line per body")
	require.Equal(t, 201, bytes.Count(got, []byte(`"receiver":"alertgate"`)))
}

// The deliveries owed are the deliveries pending or running; steps and
// finished deliveries are not owed, and the row counts see every table.
func TestRowCounterCountsDeliveriesOwed(t *testing.T) {
	ctx := context.Background()
	path, db := tinyDB(t, "owed.db")
	for i, j := range []struct{ kind, state string }{
		{"delivery", "pending"}, {"delivery", "running"}, {"delivery", "done"}, {"delivery", "dead"},
		{"step", "pending"}, {"delivery", "pending"},
	} {
		_, err := db.ExecContext(ctx, `INSERT INTO jobs (key, kind, incident_id, state, due_at, created_at, updated_at) VALUES (?, ?, 1, ?, 0, 0, 0)`,
			fmt.Sprint("k", i), j.kind, j.state)
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())

	rc, err := newRowCounter(path, "")
	require.NoError(t, err)
	defer rc.close()
	owed, err := rc.unfinished(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, owed)
	rows, err := rc.count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 6, rows["jobs"])
}
