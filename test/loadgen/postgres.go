package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresEnv names the DSN of the PostgreSQL rows, as for the tests.
const postgresEnv = "ALERTGATE_TEST_POSTGRES_DSN"

// pgReplicas are the replica counts of the PostgreSQL rows.
var pgReplicas = []int{1, 3}

// pgServer is the database of the PostgreSQL rows. Its one connection
// creates and drops the scenarios' schemas; the gateways connect with
// their own DSN.
type pgServer struct {
	dsn     string
	conn    *pgx.Conn
	version string
	where   string // host:port/database, no credentials
}

// connectPostgres connects to dsn and reads the server's version, so a
// wrong DSN fails the run before any scenario.
func connectPostgres(ctx context.Context, dsn string) (*pgServer, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("-postgres: %w", err)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s: %w", where, err)
	}
	pg := &pgServer{dsn: dsn, conn: conn, where: where}
	if err := conn.QueryRow(cctx, `SHOW server_version`).Scan(&pg.version); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("PostgreSQL at %s: %w", where, err)
	}
	return pg, nil
}

func (p *pgServer) close() { p.conn.Close(context.Background()) }

// describe names the server for the report: "PostgreSQL 15.2 at 127.0.0.1:5432/test".
func (p *pgServer) describe() string {
	v, _, _ := strings.Cut(p.version, " ")
	return fmt.Sprintf("PostgreSQL %s at %s", v, p.where)
}

// newSchema creates a fresh schema and returns a DSN that selects it and
// a function that drops it (also after the run was interrupted).
func (p *pgServer) newSchema(ctx context.Context) (dsn string, drop func(), err error) {
	name := fmt.Sprintf("loadgen_%d", time.Now().UnixNano())
	if dsn, err = schemaDSN(p.dsn, name); err != nil {
		return "", nil, err
	}
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := p.conn.Exec(ctx, `CREATE SCHEMA `+ident); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", name, err)
	}
	drop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := p.conn.Exec(ctx, `DROP SCHEMA `+ident+` CASCADE`); err != nil {
			logf("!!! drop schema %s: %v", name, err)
		}
	}
	return dsn, drop, nil
}

// schemaDSN returns dsn with search_path set to schema, in either of
// libpq's forms: a postgres:// URL gets a query parameter (replacing one
// already there), a keyword/value string one more keyword.
func schemaDSN(dsn, schema string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return strings.TrimSpace(dsn) + " search_path=" + schema, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("-postgres: %w", redactErr(err))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redactErr drops the URL (which may hold a password) from url.Parse's
// error.
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok { //nolint:errorlint // database/sql returns the driver's *url.Error as is
		return ue.Err
	}
	return err
}

// startPostgresGateways returns a start function for n gateway processes
// on one fresh schema, started one after another, each once the previous
// one answered /readyz. The schema is dropped when they have stopped.
func startPostgresGateways(n int) startFunc {
	return func(ctx context.Context, e *env) (*servers, error) {
		dsn, drop, err := e.pg.newSchema(ctx)
		if err != nil {
			return nil, err
		}
		s := &servers{after: drop, sink: e.pager}
		if s.rows, err = newRowCounter("", dsn); err != nil {
			drop()
			return nil, err
		}
		for i := range n {
			dir, err := e.dir(fmt.Sprintf("gateway-pg%d", i+1))
			if err == nil {
				var p *proc
				if p, err = startGatewayProc(ctx, e, dir, fmt.Sprintf(postgresStorage, dsn), pagerExtra(e)); err == nil {
					s.procs = append(s.procs, p)
					continue
				}
			}
			s.stop()
			return nil, fmt.Errorf("PostgreSQL replica %d of %d: %w", i+1, n, err)
		}
		return s, nil
	}
}

// pgRowName is the server column of a PostgreSQL row.
func pgRowName(replicas int) string {
	if replicas == 1 {
		return "gateway (PostgreSQL, 1 replica)"
	}
	return fmt.Sprintf("gateway (PostgreSQL, %d replicas)", replicas)
}

// connsSplit returns how many of conns connections each of n replicas
// gets from workerAddrs.
func connsSplit(conns, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = conns / n
		if i < conns%n {
			out[i]++
		}
	}
	return out
}

// passwordKV matches a keyword/value DSN's password.
var passwordKV = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactDSN hides a DSN's password.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return passwordKV.ReplaceAllString(dsn, "${1}xxxxx")
}

// redactArgs returns args with the value of -postgres redacted, for the
// report's command line.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "postgres" {
			continue
		}
		if hasValue {
			out[i] = a[:len(a)-len(value)] + redactDSN(value)
		} else if i+1 < len(out) {
			out[i+1] = redactDSN(out[i+1])
		}
	}
	return out
}
