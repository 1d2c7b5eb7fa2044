package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
)

// lookBack is how far before its cursor a stream asks again: a
// transaction that stamped updated_at earlier may commit after a poll
// already read past it. Rows already sent at the same updated_at are not
// sent twice.
const lookBack = 2 * time.Second

// update is one live change of the board, the data of an SSE event.
type update struct {
	ID     string `json:"id"`
	Sort   string `json:"sort,omitempty"`
	HTML   string `json:"html,omitempty"`
	Remove bool   `json:"remove,omitempty"`
}

// events handles GET /console/events?<board filter>: a server-sent
// event stream of the board's changed rows. Each event's id is the
// stream's cursor (Unix ms); a reconnecting browser sends it back as
// Last-Event-ID and misses nothing. The first connection starts at
// ?since= (the board's render time).
func (c *Console) events(ctx *fiber.Ctx) error {
	q, err := url.ParseQuery(string(ctx.Request().URI().QueryString()))
	if err != nil {
		return ctx.Status(fiber.StatusBadRequest).SendString("invalid query")
	}
	f, err := parseFilter(q)
	if err != nil {
		return ctx.Status(fiber.StatusBadRequest).SendString(err.Error())
	}
	cursor := c.now()
	since := ctx.Get("Last-Event-ID")
	if since == "" {
		since = q.Get("since")
	}
	if since != "" {
		ms, err := strconv.ParseInt(since, 10, 64)
		if err != nil || ms < 0 {
			return ctx.Status(fiber.StatusBadRequest).SendString("invalid since / Last-Event-ID")
		}
		// A cursor in the future (a client's bad clock) would hide
		// changes: never start later than now.
		if t := time.UnixMilli(ms); t.Before(cursor) {
			cursor = t
		}
	}
	ctx.Set(fiber.HeaderContentType, "text/event-stream")
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	ctx.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	base := ctx.UserContext()
	ctx.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		c.stream(base, w, f, cursor)
	})
	return nil
}

// stream writes the changes matching f from cursor on, until the client
// leaves, the console closes or streamFor passes.
func (c *Console) stream(base context.Context, w *bufio.Writer, f filter, cursor time.Time) {
	sent := map[int64]time.Time{} // updated_at of each row sent
	// retry: how soon the browser reconnects once the stream ends.
	fmt.Fprintf(w, "retry: 500\nid: %d\nevent: hello\ndata: {}\n\n", cursor.UnixMilli())
	if w.Flush() != nil {
		return
	}
	end := time.NewTimer(c.streamFor)
	defer end.Stop()
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	for {
		next, err := c.push(base, w, f, cursor, sent)
		if err != nil {
			return
		}
		cursor = next
		select {
		case <-c.done:
			return
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}

// push writes the rows changed since cursor-lookBack that were not sent
// yet and returns the new cursor. An error means the client is gone;
// a store error is logged and the stream goes on (the next poll retries).
func (c *Console) push(base context.Context, w *bufio.Writer, f filter, cursor time.Time, sent map[int64]time.Time) (time.Time, error) {
	ctx, cancel := context.WithTimeout(base, c.timeout)
	defer cancel()
	changed, err := c.st.IncidentsChangedSince(ctx, cursor.Add(-lookBack), boardOpenLimit)
	if err != nil {
		c.log.Warn("console event poll", zap.Error(err))
		_, werr := w.WriteString(": store unavailable\n\n") // a comment keeps the connection checked
		if werr == nil {
			werr = w.Flush()
		}
		return cursor, werr
	}
	var fresh []alert.Incident
	for _, inc := range changed {
		if at, ok := sent[inc.ID]; ok && at.Equal(inc.UpdatedAt) {
			continue
		}
		fresh = append(fresh, inc)
	}
	for id, at := range sent {
		if at.Before(cursor.Add(-2 * lookBack)) {
			delete(sent, id)
		}
	}
	if len(fresh) == 0 {
		_, err := w.WriteString(": ping\n\n")
		if err == nil {
			err = w.Flush()
		}
		return cursor, err
	}
	rows, err := c.rows(ctx, c.now(), fresh)
	if err != nil {
		c.log.Warn("console event rows", zap.Error(err))
		return cursor, nil
	}
	// The rows go out in board order, not updated_at order: each carries
	// the cursor the batch started from, and only a last "cursor" event
	// moves the browser's Last-Event-ID past the batch, so a reconnect in
	// the middle of it asks for the whole batch again.
	start, next := cursor, cursor
	var buf bytes.Buffer
	for _, r := range rows {
		u := update{ID: r.Key}
		if f.matches(&r.inc) {
			buf.Reset()
			if err := c.tmpl.ExecuteTemplate(&buf, "row", r); err != nil {
				c.log.Error("render row", zap.Error(err))
				continue
			}
			u.Sort, u.HTML = r.Sort, buf.String()
		} else {
			u.Remove = true
		}
		data, err := json.Marshal(u)
		if err != nil {
			continue
		}
		sent[r.inc.ID] = r.inc.UpdatedAt
		if r.inc.UpdatedAt.After(next) {
			next = r.inc.UpdatedAt
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: incident\ndata: %s\n\n", start.UnixMilli(), data); err != nil {
			return start, err
		}
	}
	if _, err := fmt.Fprintf(w, "id: %d\nevent: cursor\ndata: {}\n\n", next.UnixMilli()); err != nil {
		return start, err
	}
	return next, w.Flush()
}
