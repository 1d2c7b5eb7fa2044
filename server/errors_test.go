package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/store"
)

func TestToHTTP(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want answer
	}{
		{name: "http error", err: badRequest("limit %d", 3), want: answer{code: 400, msg: "limit 3"}},
		{name: "wrapped http error", err: fmt.Errorf("x: %w", notFound("gone")), want: answer{code: 404, msg: "gone"}},
		{name: "unauthorized", err: unauthorized(`Bearer realm="alertgate"`, "invalid"), want: answer{code: 401, msg: "invalid", challenge: `Bearer realm="alertgate"`}},
		{name: "bad payload", err: fmt.Errorf("%w: alerts[0].labels: got string", adapters.ErrBadPayload), want: answer{code: 400, msg: "bad payload: alerts[0].labels: got string"}},
		{name: "not found", err: fmt.Errorf("silence 3: %w", store.ErrNotFound), want: answer{code: 404, msg: "silence 3: not found"}},
		{name: "conflict", err: fmt.Errorf("ack: %w", store.ErrConflict), want: answer{code: 409, msg: "ack: conflict"}},
		{name: "unavailable", err: fmt.Errorf("begin: %w", store.ErrUnavailable), want: answer{code: 503, msg: "storage unavailable, retry later", retryAfter: true}},
		{name: "deadline", err: fmt.Errorf("ingest: %w", context.DeadlineExceeded), want: answer{code: 503, msg: "timed out, retry later", retryAfter: true}},
		{name: "fiber 4xx", err: fiber.ErrMethodNotAllowed, want: answer{code: 405, msg: "Method Not Allowed"}},
		{name: "fiber 5xx hides message", err: fiber.NewError(502, "upstream 10.0.0.1 down"), want: answer{code: 502, msg: "internal error"}},
		{name: "panic", err: &panicError{value: "boom"}, want: answer{code: 500, msg: "internal error"}},
		{name: "anything else", err: errors.New("sql: connection string host=db password=x"), want: answer{code: 500, msg: "internal error"}},
		{name: "value refused by the database", err: fmt.Errorf("create silence: %w",
			&pgconn.PgError{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00`}),
			want: answer{code: 400, msg: "the database refused a value of the request (SQLSTATE 22021)"}},
		{name: "index row too large", err: &pgconn.PgError{Code: "54000", Message: "index row size 9000 exceeds"},
			want: answer{code: 400, msg: "the database refused a value of the request (SQLSTATE 54000)"}},
		{name: "database down is not refused", err: &pgconn.PgError{Code: "57P01", Message: "terminating connection"},
			want: answer{code: 500, msg: "internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, toHTTP(tt.err))
		})
	}
}

func TestErrorAnswerIsJSON(t *testing.T) {
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		_ = c.SendString("partial output")
		writeError(c, fmt.Errorf("read: %w", store.ErrUnavailable))
		return nil
	})
	resp, err := app.Test(newRequest(http.MethodGet, "/", ""))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	var b [128]byte
	n, _ := resp.Body.Read(b[:])
	require.JSONEq(t, `{"error":"storage unavailable, retry later"}`, string(b[:n]), "earlier output is discarded")
}
