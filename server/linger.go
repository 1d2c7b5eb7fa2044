package server

import (
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Bounds of the drain after a request fasthttp rejected while reading it.
const (
	drainTimeout = 2 * time.Second
	drainMax     = 64 << 20
)

// lingerListener wraps accepted connections in lingerConn.
//
// When fasthttp rejects a request while reading it (a body over the
// limit: 413), it answers and closes the connection with the rest of the
// body unread. Closing a socket with unread data sends a TCP reset, and
// the client usually loses the 413 and sees "connection reset by peer"
// instead (Alertmanager would then retry a payload that can never fit).
// Like net/http, a marked connection is closed gently: half-close, drain
// what the client still sends (bounded), then close.
type lingerListener struct {
	net.Listener
}

// Accept wraps the next connection.
func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lingerConn{Conn: c}, nil
}

// lingerConn is a connection that can be asked to linger on close.
type lingerConn struct {
	net.Conn
	linger atomic.Bool
}

// Close drains a marked connection before closing it.
func (c *lingerConn) Close() error {
	if c.linger.Load() {
		if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			// A network deadline, not logic time: the real clock is right.
			if c.Conn.SetReadDeadline(time.Now().Add(drainTimeout)) == nil {
				_, _ = io.CopyN(io.Discard, c.Conn, drainMax)
			}
		}
	}
	return c.Conn.Close()
}

// lingerOnClose marks the request's connection to be drained when
// fasthttp closes it.
func lingerOnClose(c *fiber.Ctx) {
	if lc, ok := c.Context().Conn().(*lingerConn); ok {
		lc.linger.Store(true)
	}
}
