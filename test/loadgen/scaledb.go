package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
)

// The large database of the flat-with-scale rows (-scale): a SQLite
// database the gateway migrated, then filled by direct SQL with the
// history of a busy installation — alerts, incidents, their timelines and
// finished jobs — built once per size and schema version, cached, and
// copied for every run so runs never grow it.

// scaleSize is what -scale asks for: stored alerts and open incidents.
type scaleSize struct {
	Alerts, Open int
}

// parseScale reads "ALERTS,OPEN" ("1000000,100000").
func parseScale(s string) (scaleSize, error) {
	a, o, ok := strings.Cut(s, ",")
	if !ok {
		return scaleSize{}, fmt.Errorf("-scale %q: want ALERTS,OPEN_INCIDENTS", s)
	}
	var sz scaleSize
	var err1, err2 error
	sz.Alerts, err1 = strconv.Atoi(strings.TrimSpace(a))
	sz.Open, err2 = strconv.Atoi(strings.TrimSpace(o))
	if err := errors.Join(err1, err2); err != nil {
		return scaleSize{}, fmt.Errorf("-scale %q: %w", s, err)
	}
	if sz.Open < 1 || sz.Alerts < 2*sz.Open {
		return scaleSize{}, fmt.Errorf("-scale %q: want at least one open incident and two alerts per open incident", s)
	}
	return sz, nil
}

// String is "1M alerts, 100k open incidents" in full digits.
func (sz scaleSize) String() string {
	return fmt.Sprintf("%s alerts, %s open incidents", fmtInt(uint64(sz.Alerts)), fmtInt(uint64(sz.Open)))
}

// incidents is how many incidents the database holds: the open ones and
// as many resolved ones, the alerts spread evenly over all of them.
func (sz scaleSize) incidents() int { return 2 * sz.Open }

// scaleBuilderVersion names the rows fillScaleDB writes; change it when
// they change, so cached databases are built again.
const scaleBuilderVersion = 1

// scaleCacheName is the cached database's file name for a size and the
// gateway's schema version.
func scaleCacheName(sz scaleSize, schema int) string {
	return fmt.Sprintf("scale-%d-alerts-%d-open-schema%d-b%d.db", sz.Alerts, sz.Open, schema, scaleBuilderVersion)
}

// scaleDB returns the cached large database for sz and the gateway
// binary's schema, building it when it is not there: the gateway migrates
// an empty database, then fillScaleDB adds the rows.
func scaleDB(ctx context.Context, e *env, sz scaleSize) (string, error) {
	dir, err := e.dir("scale-migrate")
	if err != nil {
		return "", err
	}
	empty := filepath.Join(dir, "empty.db")
	p, err := startGatewayDB(ctx, e, empty, "")
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	p.stop()
	schema, err := schemaVersion(ctx, empty)
	if err != nil {
		return "", err
	}
	cache := e.opts.scaleCache
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("scale cache: %w", err)
	}
	path := filepath.Join(cache, scaleCacheName(sz, schema))
	if _, err := os.Stat(path); err == nil {
		logf("scale: reusing %s", path)
		return path, nil
	}
	logf("scale: building %s (%s; once)", path, sz)
	start := time.Now()
	if err := fillScaleDB(ctx, empty, sz, time.Now()); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := copyFile(empty, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("scale cache: %w", err)
	}
	logf("  built in %s", time.Since(start).Round(time.Second))
	return path, nil
}

// openSQLite opens a SQLite file for the builder: one connection, no
// fsync (the file is copied after a checkpoint), a large page cache.
func openSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+
		"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)&_pragma=foreign_keys(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		return nil, fmt.Errorf("scale database: %w", err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// schemaVersion reads the schema version the gateway migrated path to.
func schemaVersion(ctx context.Context, path string) (int, error) {
	db, err := openSQLite(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("scale database: schema version: %w", err)
	}
	return v, nil
}

// scaleChunk is how many incidents (with their alerts, events and jobs)
// one transaction of the builder writes (a variable for the tests).
var scaleChunk = 20000

// scaleRowsPerInsert is how many rows one INSERT statement carries.
const scaleRowsPerInsert = 200

// fillScaleDB adds sz's rows to the empty, migrated database at path, as
// the gateway would have written them over the week before now:
// incidents 1..2·Open (the first Open triggered, the rest resolved; each
// its own alertname×service group, severities P0–P3 in turn), the alerts
// spread evenly over them (alert g in incident g mod 2·Open: firing in an
// open incident, resolved in a resolved one), each incident's timeline
// (detected, classified, notified, resolved) and its finished jobs (the
// on-call page step and its delivery, the resolution). No job is
// pending: the pending-timer rows (-timers) measure those.
func fillScaleDB(ctx context.Context, path string, sz scaleSize, now time.Time) error {
	db, err := openSQLite(path)
	if err != nil {
		return err
	}
	defer db.Close()
	n := sz.incidents()
	for lo := 0; lo < n; lo += scaleChunk {
		if err := fillChunk(ctx, db, sz, now, lo, min(lo+scaleChunk, n)); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("scale database: checkpoint: %w", err)
	}
	return db.Close()
}

// scaleFP is the first alert number of the large database's fingerprints,
// far above the workloads' ids.
const scaleFP = 1 << 56

// fillChunk writes incidents lo..hi-1 (0-based) in one transaction.
func fillChunk(ctx context.Context, db *sql.DB, sz scaleSize, now time.Time, lo, hi int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("scale database: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	n := sz.incidents()
	base := now.Add(-7 * 24 * time.Hour)
	ins := map[string]*bulkInsert{
		"incidents": newBulkInsert(tx, `INSERT INTO incidents (id, group_key, status, severity, title, service, category, runbook, source,
alert_count, firing_count, opened_at, resolved_at, resolved_by, ack_due, resolve_due, updated_at, escalated_at) VALUES `, 18),
		"alerts": newBulkInsert(tx, `INSERT INTO alerts (source, fingerprint, incident_id, status, data, hash, first_seen, last_seen) VALUES `, 8),
		"events": newBulkInsert(tx, `INSERT INTO events (incident_id, at, kind, actor, detail) VALUES `, 5),
		"jobs":   newBulkInsert(tx, `INSERT INTO jobs (key, kind, incident_id, state, stop_on, target, action, due_at, attempts, created_at, updated_at, priority) VALUES `, 12),
	}
	for i := lo; i < hi; i++ {
		id := int64(i + 1)
		key := alert.IncidentKey(id)
		open := i < sz.Open
		sev := i % 4
		name := alertNames[i%len(alertNames)]
		svc := fmt.Sprintf("scale-%07d", i)
		title := name + " on " + svc
		opened := base.Add(time.Duration(i) * (6 * 24 * time.Hour) / time.Duration(n))
		resolved, status, alertStatus := opened.Add(time.Hour), alert.IncidentResolved, alert.StatusResolved
		// Alerts g ≡ i (mod n): how many there are of them.
		count := sz.Alerts / n
		if i < sz.Alerts%n {
			count++
		}
		firing, resolvedBy := 0, "source:alertmanager"
		if open {
			resolved, status, alertStatus, firing, resolvedBy = time.Time{}, alert.IncidentTriggered, alert.StatusFiring, count, ""
		}
		err := ins["incidents"].add(ctx, id, `alertname="`+name+`",service="`+svc+`"`, string(status), sev, title, svc, "", "",
			"alertmanager", count, firing, ms(opened), ms(resolved), resolvedBy,
			ms(opened.Add(15*time.Minute)), ms(opened.Add(4*time.Hour)), ms(opened.Add(time.Hour)), ms(opened))
		if err != nil {
			return err
		}
		for j := range count {
			g := uint64(j*n + i)
			a := alert.Alert{
				Source: "alertmanager", SourceType: "alertmanager", Status: alertStatus,
				Fingerprint: fmt.Sprintf("%016x", fingerprint(scaleFP+g)),
				Labels: map[string]string{"alertname": name, "service": svc, "severity": "warning", "env": "prod",
					"instance": fmt.Sprintf("node-%010d:9100", g)},
				Annotations: map[string]string{"summary": title},
				Title:       title, Service: svc, StartsAt: opened, SeverityHint: "warning",
			}
			if !open {
				a.EndsAt = resolved
			}
			data, err := json.Marshal(&a)
			if err != nil {
				return fmt.Errorf("scale database: %w", err)
			}
			if err := ins["alerts"].add(ctx, a.Source, a.Fingerprint, id, string(a.Status), string(data), int64(fingerprint(g)>>1),
				ms(opened), ms(opened)); err != nil {
				return err
			}
		}
		events := [][]any{
			{id, ms(opened), string(alert.EventDetected), "source:alertmanager", "alert (alertmanager): " + title},
			{id, ms(opened), string(alert.EventClassified), "rules", "P" + strconv.Itoa(sev) + " (bench), group " + svc},
			{id, ms(opened), string(alert.EventNotified), "log", "page oncall via log"},
		}
		jobs := [][]any{
			{key + "/page/oncall#0", "step", id, "done", string(alert.IncidentAcknowledged), "", "", ms(opened), 1, ms(opened), ms(opened), sev},
			{key + "/page/oncall#0/log", "delivery", id, "done", "", "log", "page", ms(opened), 1, ms(opened), ms(opened), sev},
		}
		if !open {
			at := strconv.FormatInt(resolved.UnixMilli(), 10)
			events = append(events, []any{id, ms(resolved), string(alert.EventResolved), "source:alertmanager", "all alerts resolved"})
			jobs = append(jobs, []any{key + "/resolve@" + at, "step", id, "done", "", "", "", ms(resolved), 1, ms(resolved), ms(resolved), sev})
		}
		for _, ev := range events {
			if err := ins["events"].add(ctx, ev...); err != nil {
				return err
			}
		}
		for _, j := range jobs {
			if err := ins["jobs"].add(ctx, j...); err != nil {
				return err
			}
		}
	}
	for _, t := range []string{"incidents", "alerts", "events", "jobs"} {
		if err := ins[t].flush(ctx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("scale database: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// bulkInsert collects rows and writes them scaleRowsPerInsert to a
// statement.
type bulkInsert struct {
	tx     *sql.Tx
	prefix string
	cols   int
	args   []any
	stmt   *sql.Stmt // for a full statement, prepared once
}

func newBulkInsert(tx *sql.Tx, prefix string, cols int) *bulkInsert {
	return &bulkInsert{tx: tx, prefix: prefix, cols: cols}
}

func (b *bulkInsert) add(ctx context.Context, row ...any) error {
	if len(row) != b.cols {
		return fmt.Errorf("scale database: %d values for %d columns: %.40s", len(row), b.cols, b.prefix)
	}
	b.args = append(b.args, row...)
	if len(b.args) < b.cols*scaleRowsPerInsert {
		return nil
	}
	if b.stmt == nil {
		var err error
		if b.stmt, err = b.tx.PrepareContext(ctx, b.query(scaleRowsPerInsert)); err != nil {
			return fmt.Errorf("scale database: %w", err)
		}
	}
	if _, err := b.stmt.ExecContext(ctx, b.args...); err != nil {
		return fmt.Errorf("scale database: %.40s: %w", b.prefix, err)
	}
	b.args = b.args[:0]
	return nil
}

// flush writes the rows left.
func (b *bulkInsert) flush(ctx context.Context) error {
	if len(b.args) == 0 {
		return nil
	}
	if _, err := b.tx.ExecContext(ctx, b.query(len(b.args)/b.cols), b.args...); err != nil {
		return fmt.Errorf("scale database: %.40s: %w", b.prefix, err)
	}
	b.args = b.args[:0]
	return nil
}

// query is the INSERT of rows rows.
func (b *bulkInsert) query(rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.cols), ", ") + ")"
	return b.prefix + strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// copyFile copies src to dst (created or truncated).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy database: %w", err)
	}
	return out.Close()
}
