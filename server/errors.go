package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/adapters"
	"github.com/alertgate/alertgate/store"
)

// retryAfterSeconds is what 503 answers put in Retry-After.
const retryAfterSeconds = 5

// httpError is an error that already knows its HTTP answer. Handlers
// return it for problems they detect themselves (bad parameters, failed
// authentication); everything else is classified by toHTTP.
type httpError struct {
	code int
	// msg is the public reason, safe to send to the client and to log.
	msg string
	// challenge is the WWW-Authenticate value of a 401.
	challenge string
}

func (e *httpError) Error() string { return e.msg }

func newHTTPError(code int, format string, args ...any) *httpError {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *httpError {
	return newHTTPError(http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *httpError {
	return newHTTPError(http.StatusNotFound, format, args...)
}

func unauthorized(challenge, reason string) *httpError {
	return &httpError{code: http.StatusUnauthorized, msg: reason, challenge: challenge}
}

// panicError is a recovered panic; the stack goes to the log only.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// answer is how an error is presented to the client.
type answer struct {
	code       int
	msg        string
	challenge  string
	retryAfter bool
}

// toHTTP maps an error to its HTTP answer. It is the single place where
// errors become status codes: store and adapter sentinels, deadlines,
// fiber's own errors and everything unexpected (500, details hidden).
func toHTTP(err error) answer {
	var (
		he *httpError
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &he):
		return answer{code: he.code, msg: he.msg, challenge: he.challenge}
	case errors.Is(err, errBusy):
		return answer{code: http.StatusServiceUnavailable, msg: err.Error(), retryAfter: true}
	case errors.Is(err, adapters.ErrBadPayload):
		return answer{code: http.StatusBadRequest, msg: err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return answer{code: http.StatusNotFound, msg: err.Error()}
	case errors.Is(err, store.ErrInvalid):
		return answer{code: http.StatusBadRequest, msg: err.Error()}
	case store.Refused(err):
		// A value the database refuses (PostgreSQL class 22 or 54) that
		// got past the request's checks: the request's fault, and
		// trying it again cannot help. The database's own words stay in
		// the log.
		return answer{code: http.StatusBadRequest, msg: "the database refused a value of the request" + sqlState(err)}
	case errors.Is(err, store.ErrConflict):
		return answer{code: http.StatusConflict, msg: err.Error()}
	case errors.Is(err, store.ErrUnavailable):
		return answer{code: http.StatusServiceUnavailable, msg: "storage unavailable, retry later", retryAfter: true}
	case errors.Is(err, context.DeadlineExceeded):
		return answer{code: http.StatusServiceUnavailable, msg: "timed out, retry later", retryAfter: true}
	case errors.As(err, &fe):
		if fe.Code >= http.StatusInternalServerError {
			return answer{code: fe.Code, msg: "internal error"}
		}
		return answer{code: fe.Code, msg: fe.Message}
	}
	return answer{code: http.StatusInternalServerError, msg: "internal error"}
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// writeError sends the answer for err as JSON.
func writeError(c *fiber.Ctx, err error) answer {
	a := toHTTP(err)
	if a.challenge != "" {
		c.Set(fiber.HeaderWWWAuthenticate, a.challenge)
	}
	if a.retryAfter {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds))
	}
	// Drop anything a handler may have written before failing.
	c.Response().ResetBody()
	if jerr := c.Status(a.code).JSON(errorBody{Error: a.msg}); jerr != nil {
		// Encoding a struct of one string does not fail; keep the code.
		c.Status(a.code)
	}
	return a
}

// recoverPanics turns a panic further down the chain into a panicError,
// so a buggy dependency costs one 500, never the process.
func recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return c.Next()
}

// sqlState is " (SQLSTATE 22021)" for a database error that has one.
func sqlState(err error) string {
	var e interface{ SQLState() string }
	if errors.As(err, &e) {
		return " (SQLSTATE " + e.SQLState() + ")"
	}
	return ""
}
