// Command loadgen is alertgate's HTTP load tool, run by `make bench`:
//
//	go -C test run ./loadgen -duration 10s -conns 64
//
// It builds ./cmd/alertgate, then for each workload measures ingest
// throughput (alerts/s), p50/p99 latency, the servers' CPU time per alert
// and the rows the gateway's database gained per alert, of
// POST /api/v1/alerts/alertmanager from -conns concurrent connections in
// a closed loop, against fresh server processes in turn: a parse-only
// baseline (this tool in its hidden -serve-baseline mode: a fiber server
// with the gateway's settings whose handler only decodes the body and
// answers 200), the durable-append ceiling (hidden -serve-append mode:
// the same decode, then the body appended to a file in one write and one
// fdatasync shared by every request waiting, answered after it: the
// cheapest durable commit, no SQL) and the gateway, which answers 200
// after the durable SQLite commit. The workloads are
//
//	repeat           1,000 distinct alerts re-sent round-robin (each sent once first)
//	storm            every request a new alert, over 100 alertname×service groups
//	grouped          the storm as Alertmanager sends it: -group-size new alerts
//	                 (default 25) of one group per request; alerts/s counts alerts
//	incident         every request a new alert of a new group: a new incident each
//	incident-grouped -group-size new alerts of a new group per request
//
// The default is repeat and storm; `make bench` runs all five.
//
// The gateway rows page the on-call role through a webhook on loopback
// (firstpage.go) that records when the first page of each incident
// arrived; for the incident workloads the report gives, per gateway row,
// the first page of every new P0 incident after its alert's 2xx (p50,
// p99, max). Which requests are P0 the tool decides as the gateway does:
// the Alertmanager adapter and the default rules on each body.
//
// With -scale ALERTS,OPEN (`make bench-scale`) the incident and repeat
// workloads run on a gateway with an empty database and then on a copy of
// one holding ALERTS alerts and OPEN open incidents (scaledb.go: built
// once by SQL into the schema the gateway migrated, cached in -scale-cache
// per size and schema version); the report gives the ratio.
//
// With -alertmanager-bin PATH (`make bench-alertmanager` builds the
// Alertmanager of test/go.mod) each workload also runs against that
// Alertmanager's POST /api/v2/alerts (the same alerts, as postable
// alerts; one instance, no cluster, a receiver without integrations) and
// the report gives the gateway's alerts/s as a ratio of Alertmanager's.
//
// With -compare-bin PATH each workload also runs against a second
// alertgate binary on SQLite, right after the first: a before/after
// comparison in one run. With -idle N a fresh gateway opens N incidents,
// finishes their immediate work and then receives nothing for
// -idle-window: the report gives its writer transactions per second
// (alertgate_store_write_transactions_total) and its CPU in % of a core.
//
// With -postgres DSN (default $ALERTGATE_TEST_POSTGRES_DSN; without one
// the report says these rows were skipped) each workload also runs
// against the gateway on PostgreSQL: one replica, and three gateway
// processes on the same database, the connections split evenly among them
// (each connection stays with its replica). Each of these rows gets a
// fresh schema (search_path in the DSN), dropped afterwards.
//
// Finally it ingests -rss-alerts distinct alerts into a fresh gateway and
// reports its RSS growth per active alert. The report is a Markdown table
// on stdout (and in -out FILE) with each row's ratio to the baseline, the
// durable-append ceiling and Alertmanager of its workload, the rows per
// new incident by table for the incident workloads, and the ≤ 2 KB RSS per
// active alert target marked PASS or FAIL (informational). The exit status is 1 when
// a request failed (non-2xx or transport error) or a server didn't start.
//
// Only 127.0.0.1 (and the -postgres database) is ever contacted. Child
// servers run in their own process groups, are stopped on exit or
// interrupt and get SIGKILL should this process die.
//
// Chaos mode, run by `make chaos` (not part of `make test`):
//
//	go -C test run ./loadgen chaos -duration 45s -kills 3 -rate 10
//
// builds the gateway once and, per engine (SQLite, and PostgreSQL in a
// fresh schema when -postgres or $ALERTGATE_TEST_POSTGRES_DSN is set),
// posts Alertmanager alerts at -rate (groups of -group-size, P0 and P1,
// some repeated) while SIGKILLing the gateway's process group -kills
// times and restarting it on the same database; the client retries what
// got no 2xx, as Alertmanager does. Every role pages five loopback
// webhooks (chaos_sink.go): healthy, slow (1 s), rate-limited (429 with
// Retry-After), broken (500) and hanging. After the load it waits (at most
// -drain) until no page step or delivery to an answering target is left,
// stops the gateway and checks the database and the sink's records
// (chaos_check.go): alerts 2xx'd and lost, incidents with wrong counts,
// due pages never delivered, pages to failing targets without a delivery
// job, double pages (one step under several keys), same-key re-sends and
// their delay (and any with no SIGKILL in between), first-page lateness at
// the healthy target, peak RSS. The exit status is 1 when a promise is
// broken.
//
// Adding a variant (a gateway holding pending timers, slow targets,
// PostgreSQL replicas) is a startFunc and an entry in scenarios; see
// scenario.go.
package main
