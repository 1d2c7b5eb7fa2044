package console

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/alert"
)

const maxNoteLen = 10000

// act handles POST /incidents/:id/{ack,resolve,update,severity}: the
// signed-in person acknowledges, resolves, posts a status update or
// raises or lowers the severity, through the store's operations, as the
// actor.
func (c *Console) act(ctx *fiber.Ctx) error {
	id, ok := alert.ParseIncidentKey(ctx.Params("id"))
	if !ok {
		return c.errorPage(ctx, fiber.StatusBadRequest, "Invalid incident id: want INC-7 or 7.")
	}
	note := strings.Clone(strings.TrimSpace(ctx.FormValue("note")))
	if len(note) > maxNoteLen || !alert.IsText(note) {
		return c.errorPage(ctx, fiber.StatusBadRequest, "The note must be text (no NUL byte, valid UTF-8) of at most 10,000 bytes.")
	}
	actor := sessionOf(ctx).user
	cctx, cancel := context.WithTimeout(ctx.UserContext(), c.timeout)
	defer cancel()
	var err error
	switch ctx.Params("action") {
	case "ack":
		_, err = c.actions.Acknowledge(cctx, id, actor, note)
	case "resolve":
		_, err = c.actions.Resolve(cctx, id, actor, note)
	case "update":
		if note == "" {
			return c.errorPage(ctx, fiber.StatusBadRequest, "A status update needs its text.")
		}
		_, err = c.actions.PostUpdate(cctx, id, actor, note)
	case "severity":
		sev, perr := alert.ParseSeverity(ctx.FormValue("severity"))
		if perr != nil {
			return c.errorPage(ctx, fiber.StatusBadRequest, "Choose a severity, P0 to P3.")
		}
		_, err = c.actions.SetSeverity(cctx, id, sev, actor, note)
	default:
		return c.errorPage(ctx, fiber.StatusNotFound, "No such action.")
	}
	if err != nil {
		return c.storeError(ctx, "action", err)
	}
	return ctx.Redirect("/incidents/"+alert.IncidentKey(id), fiber.StatusSeeOther)
}
