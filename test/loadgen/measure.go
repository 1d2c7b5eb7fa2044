package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// cpuTime returns the user plus system CPU time the process has used.
func (p *proc) cpuTime() (time.Duration, error) {
	return readCPUTime(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
}

// readCPUTime parses utime and stime (fields 14 and 15) of a stat file;
// the fields are counted after the command name's closing parenthesis,
// which may itself hold spaces.
func readCPUTime(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu time: %s: no command name", path)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time: %s: %d fields", path, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time: %s: %w", path, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// cpuTime sums the CPU time of every process.
func (s *servers) cpuTime() (time.Duration, error) {
	var sum time.Duration
	for _, p := range s.procs {
		d, err := p.cpuTime()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// writerWork sums the statements and transactions the servers' store
// writers have run (alertgate_store_statements_total and
// alertgate_store_write_transactions_total); -1, -1 when a server does
// not expose them.
func (s *servers) writerWork() (stmts, txs float64) {
	for _, p := range s.procs {
		st, err := metricValue(p.addr, "alertgate_store_statements_total")
		if err != nil {
			return -1, -1
		}
		tx, err := metricValue(p.addr, "alertgate_store_write_transactions_total")
		if err != nil {
			return -1, -1
		}
		stmts, txs = stmts+st, txs+tx
	}
	return stmts, txs
}

// rowCounter counts the rows of every table of a gateway's database.
type rowCounter struct {
	db       *sql.DB
	postgres bool
}

// newRowCounter opens the SQLite file at path (read-only, beside the
// gateway), or the PostgreSQL DSN when postgres is set.
func newRowCounter(path, postgres string) (*rowCounter, error) {
	c, err := openChaosDB(path, postgres)
	if err != nil {
		return nil, err
	}
	return &rowCounter{db: c.db, postgres: postgres != ""}, nil
}

func (r *rowCounter) close() { r.db.Close() }

// count returns the number of rows per table.
func (r *rowCounter) count(ctx context.Context) (map[string]int64, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if r.postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tables: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	out := make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		// Table names come from the catalogue; quoted as identifiers.
		if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(t, `"`, `""`)+`"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// unfinished counts the deliveries written and not finished yet (pending
// or running): the pages a gateway still owes.
func (r *rowCounter) unfinished(ctx context.Context) (int64, error) {
	var n int64
	err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE kind = 'delivery' AND state IN ('pending', 'running')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("unfinished deliveries: %w", err)
	}
	return n, nil
}

// rowDelta returns after − before per table, leaving out tables that did
// not change.
func rowDelta(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for t, n := range after {
		if d := n - before[t]; d != 0 {
			out[t] = d
		}
	}
	for t, n := range before {
		if _, ok := after[t]; !ok && n != 0 {
			out[t] = -n
		}
	}
	return out
}

// alertmanagerConfig routes every alert to a receiver without
// integrations, grouped like the gateway (alertname, service): ingest
// only, nothing is sent.
const alertmanagerConfig = `route:
  receiver: blackhole
  group_by: [alertname, service]
receivers:
  - name: blackhole
`

// alertmanagerPath is where Alertmanager takes alerts.
const alertmanagerPath = "/api/v2/alerts"

// startAlertmanager runs the -alertmanager-bin binary, alone (no cluster),
// on a fresh storage directory, and waits for /-/ready.
func startAlertmanager(ctx context.Context, e *env) (*servers, error) {
	dir, err := e.dir("alertmanager")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(alertmanagerConfig), 0o600); err != nil {
		return nil, fmt.Errorf("alertmanager config: %w", err)
	}
	p, err := startProc(ctx, "alertmanager", e.opts.alertmanagerBin, "/-/ready", func(addr string) ([]string, error) {
		return []string{"--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr, "--cluster.listen-address=", "--log.level=warn"}, nil
	})
	if err != nil {
		return nil, err
	}
	s := one(p)
	s.path, s.api = alertmanagerPath, true
	return s, nil
}

// startAppend runs this executable in -serve-append mode on a fresh file.
func startAppend(ctx context.Context, e *env) (*servers, error) {
	dir, err := e.dir("append")
	if err != nil {
		return nil, err
	}
	p, err := startProc(ctx, "append", e.self, "/healthz", func(addr string) ([]string, error) {
		return []string{"-serve-append", addr, "-append-file", filepath.Join(dir, "alerts.log")}, nil
	})
	if err != nil {
		return nil, err
	}
	return one(p), nil
}
