// Package store keeps incidents, alerts, timelines and durable work in SQL.
//
// SQLite (pure Go, WAL, synchronous=FULL) is the embedded default; the
// schema and queries are written so that PostgreSQL runs the same logic.
// Every change and the work it implies (escalation steps, deliveries) are
// written in one transaction, so a crash can never separate "incident
// opened" from "page scheduled". Ingest requests are batched into one
// transaction (group commit) and answered only after it commits.
//
// # Files
//
// The ingest path: ingest.go takes a request's alerts (unchanged repeats
// answered from memory), commit.go is the group-commit writer (one
// transaction per batch of requests), apply.go reads what package
// lifecycle needs to decide what each alert does to its incident (join,
// open, reopen, raise the severity, resolve) and writes the decision,
// flap.go writes a reopen (flapping or not), joinnotes.go tells joins on
// the timeline, suppress.go stores the alerts silenced or inhibited
// (silences.go, inhibit.go; released by
// reevaluate.go). Escalation work is kept in jobs.go and chain.go.
//
// # Migrations
//
// The schema is built by the SQL files in migrations/, embedded in the
// binary and applied in version order by Store.migrate when the store
// opens, each in its own transaction that also records the version in
// schema_version (on PostgreSQL under an advisory lock, so replicas
// starting together migrate once). A file is named NNNN_name.sql when
// both engines run the same SQL, or NNNN_name.sqlite.sql and
// NNNN_name.postgres.sql where they differ; NNNN is the version the file
// brings the database to, and versions run 1, 2, 3… with none missing.
//
// To change the schema, add the next version's file (or pair of files);
// never edit one that has been released, as databases already at that
// version would not run it again. Then refresh the golden schema dumps
// with
//
//	ALERTGATE_TEST_POSTGRES_DSN=... go test ./store -run TestSchemaGolden -update
//
// and review their diff. TestMigrationsEnginesInStep fails when the two
// engines' schemas drift apart (tables, columns, keys, indexes), but for
// the differences it lists on purpose.
package store
