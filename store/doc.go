// Package store keeps incidents, alerts, timelines and durable work in SQL.
//
// SQLite (pure Go, WAL, synchronous=FULL) is the embedded default; the
// schema and queries are written so that PostgreSQL runs the same logic.
// Every change and the work it implies (escalation steps, deliveries) are
// written in one transaction, so a crash can never separate "incident
// opened" from "page scheduled". Ingest requests are batched into one
// transaction (group commit) and answered only after it commits.
package store
