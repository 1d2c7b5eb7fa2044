package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestSchemaDSN(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{name: "URL with a query", dsn: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			want: "postgres://postgres@127.0.0.1:5432/test?search_path=lg_1&sslmode=disable"},
		{name: "URL without a query", dsn: "postgresql://u:p%40ss@db/test",
			want: "postgresql://u:p%40ss@db/test?search_path=lg_1"},
		{name: "URL replaces a search_path", dsn: "postgres://db/test?search_path=public",
			want: "postgres://db/test?search_path=lg_1"},
		{name: "keyword/value", dsn: "host=127.0.0.1 dbname=test ",
			want: "host=127.0.0.1 dbname=test search_path=lg_1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := schemaDSN(tc.dsn, "lg_1")
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			// pgx reads the schema back as a runtime parameter.
			cfg, err := pgx.ParseConfig(got)
			require.NoError(t, err)
			require.Equal(t, "lg_1", cfg.RuntimeParams["search_path"])
		})
	}
}

func TestSchemaDSNHidesThePasswordOfABadURL(t *testing.T) {
	_, err := schemaDSN("postgres://u:s3cret@db:port/test", "lg_1")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}

func TestWorkerAddrsSplitConnsEvenly(t *testing.T) {
	tests := []struct {
		name  string
		addrs []string
		conns int
		want  []string
	}{
		{name: "one server", addrs: []string{"a"}, conns: 3, want: []string{"a", "a", "a"}},
		{name: "round-robin", addrs: []string{"a", "b", "c"}, conns: 7, want: []string{"a", "b", "c", "a", "b", "c", "a"}},
		{name: "fewer conns than replicas", addrs: []string{"a", "b", "c"}, conns: 2, want: []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, workerAddrs(tc.addrs, tc.conns))
		})
	}
	// connsSplit, which the report prints, counts what workerAddrs does.
	for _, conns := range []int{1, 2, 3, 64, 100} {
		counts := map[string]int{}
		for _, a := range workerAddrs([]string{"a", "b", "c"}, conns) {
			counts[a]++
		}
		require.Equal(t, []int{counts["a"], counts["b"], counts["c"]}, connsSplit(conns, 3), "conns %d", conns)
	}
	require.Equal(t, []int{22, 21, 21}, connsSplit(64, 3))
}

func TestNewLoadClientBindsWorkersToReplicas(t *testing.T) {
	s, err := newStorm(time.Now())
	require.NoError(t, err)
	c := newLoadClient([]string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, 64, s)
	defer c.close()
	require.Len(t, c.hcs, 3)
	for i, hc := range c.hcs {
		require.Equal(t, connsSplit(64, 3)[i], hc.MaxConns, hc.Addr)
	}
	for i, w := range c.workers {
		require.Equal(t, c.hcs[i%3], w.hc)
		require.Equal(t, "http://"+w.hc.Addr+ingestPath, string(w.req.URI().FullURI()))
	}
}

func TestRedactArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "URL value", args: []string{"-duration", "5s", "-postgres", "postgres://u:s3cret@db/test"},
			want: []string{"-duration", "5s", "-postgres", "postgres://u:xxxxx@db/test"}},
		{name: "URL with =", args: []string{"--postgres=postgres://u:s3cret@db/test?sslmode=disable"},
			want: []string{"--postgres=postgres://u:xxxxx@db/test?sslmode=disable"}},
		{name: "keyword/value", args: []string{"-postgres", "host=db password=s3cret user=u"},
			want: []string{"-postgres", "host=db password=xxxxx user=u"}},
		{name: "quoted keyword/value", args: []string{"-postgres=host=db password='s3 cret' user=u"},
			want: []string{"-postgres=host=db password=xxxxx user=u"}},
		{name: "no password", args: []string{"-postgres", "postgres://postgres@127.0.0.1/test"},
			want: []string{"-postgres", "postgres://postgres@127.0.0.1/test"}},
		{name: "other flags untouched", args: []string{"-out", "password=x"}, want: []string{"-out", "password=x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]string(nil), tc.args...)
			require.Equal(t, tc.want, redactArgs(tc.args))
			require.Equal(t, orig, tc.args, "the arguments themselves are not changed")
		})
	}
}

func TestReportPostgresLines(t *testing.T) {
	rep := &report{Conns: 64, Results: []result{
		{Workload: "repeat", Server: "baseline (parse only)", Baseline: true, Stats: stats(1000, time.Millisecond, time.Second)},
		{Workload: "repeat", Server: pgRowName(3), Stats: stats(300, 5*time.Millisecond, time.Second)},
	}}
	var b strings.Builder
	rep.PostgresSkipped = "PostgreSQL rows skipped: because."
	require.NoError(t, rep.write(&b))
	require.Contains(t, b.String(), "\nPostgreSQL rows skipped: because.\n")

	b.Reset()
	rep.Postgres, rep.PostgresSkipped = "PostgreSQL 15.2 at 127.0.0.1:5432/test", ""
	require.NoError(t, rep.write(&b))
	out := b.String()
	require.Contains(t, out, "| repeat | gateway (PostgreSQL, 3 replicas) | 300 | 5.00 ms | 5.00 ms | 0 |  |  | 30.0 % |  |  | 300 | 0 |")
	require.Contains(t, out, "on PostgreSQL 15.2 at 127.0.0.1:5432/test,")
	require.Contains(t, out, "split among them (22 + 21 + 21)")
	require.NotContains(t, out, "skipped")
}

// The schema round trip against a real server, when there is one.
func TestPostgresSchemaLifecycle(t *testing.T) {
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skip("PostgreSQL test skipped: set " + postgresEnv)
	}
	ctx := context.Background()
	pg, err := connectPostgres(ctx, dsn)
	require.NoError(t, err)
	defer pg.close()
	require.Regexp(t, `^PostgreSQL \d+(\.\d+)? at `, pg.describe())

	schemaDSN, drop, err := pg.newSchema(ctx)
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, schemaDSN)
	require.NoError(t, err)
	var current string
	require.NoError(t, conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&current))
	require.True(t, strings.HasPrefix(current, "loadgen_"), current)
	require.NoError(t, conn.Close(ctx))

	drop()
	var n int
	require.NoError(t, pg.conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, current).Scan(&n))
	require.Zero(t, n, "schema dropped")
}
