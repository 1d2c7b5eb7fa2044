package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

// One-click links: GET /ack/{token} shows a confirm page, POST acts. The
// signed token is the credential (no API token); a GET never changes
// anything, because link previews and mail scanners fetch GETs.

// linkActor is the actor recorded when the responder leaves the name empty.
const linkActor = "one-click link"

// linkNote is the timeline note of an action taken through a link.
const linkNote = "via one-click link"

// linkCSP forbids every script, frame and external resource; the pages
// use the console's stylesheet and post their one form back to
// themselves.
const linkCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"

// verbs of a link action, as shown on the pages.
type linkVerbs struct {
	do   actionFunc
	verb string // "Acknowledge"
	past string // "acknowledged"
}

// linkHeaders sets the security headers of the link pages, for every
// answer including errors.
func linkHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderContentSecurityPolicy, linkCSP)
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Next()
}

// ackLinkPage handles GET /ack/:token: the incident and, while the action
// still applies, a form that posts back to the same URL.
func (s *Server) ackLinkPage(c *fiber.Ctx) error {
	id, action, ok := s.verifyLink(c)
	if !ok {
		return nil
	}
	v := s.linkVerbs(action)
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	d, err := s.incidents.GetIncident(ctx, id)
	if err == nil && d == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return s.linkFailure(c, id, action, err)
	}
	inc := &d.Incident
	page := linkPage{Incident: inc}
	switch {
	case inc.Status == alert.IncidentResolved:
		page.Heading = inc.Key + " is already resolved"
		page.Message = by("Resolved", inc.ResolvedBy)
	case action == router.ActionAck && inc.Status == alert.IncidentAcknowledged:
		page.Heading = inc.Key + " is already acknowledged"
		page.Message = by("Acknowledged", inc.AcknowledgedBy)
	default:
		page.Heading = v.verb + " " + inc.Key + "?"
		page.Button = v.verb + " " + inc.Key
	}
	return s.renderLink(c, http.StatusOK, page)
}

// ackLinkAct handles POST /ack/:token with the optional form field actor.
func (s *Server) ackLinkAct(c *fiber.Ctx) error {
	id, action, ok := s.verifyLink(c)
	if !ok {
		return nil
	}
	actor := strings.TrimSpace(c.FormValue("actor"))
	if actor == "" {
		actor = linkActor
	}
	if !alert.IsText(actor) {
		return s.renderLink(c, http.StatusBadRequest, linkPage{
			Heading: "Name not valid",
			Message: "The name holds a NUL byte or invalid UTF-8; go back, correct it and submit again.",
		})
	}
	if utf8.RuneCountInString(actor) > maxActorLen {
		return s.renderLink(c, http.StatusBadRequest, linkPage{
			Heading: "Name too long",
			Message: fmt.Sprintf("Use at most %d characters, then go back and submit again.", maxActorLen),
		})
	}
	v := s.linkVerbs(action)
	ctx, cancel := context.WithTimeout(c.UserContext(), s.timeout)
	defer cancel()
	inc, err := v.do(ctx, id, strings.Clone(actor), linkNote)
	if err != nil {
		return s.linkFailure(c, id, action, err)
	}
	s.log.Info("one-click link used", zap.String("incident", inc.Key), zap.String("action", action),
		zap.String("actor", actor), zap.String("remote_ip", c.IP()))
	who := actor
	if action == router.ActionAck && inc.AcknowledgedBy != "" {
		who = inc.AcknowledgedBy
	}
	if action == router.ActionResolve && inc.ResolvedBy != "" {
		who = inc.ResolvedBy
	}
	return s.renderLink(c, http.StatusOK, linkPage{
		Heading:  inc.Key + " " + v.past + " by " + who,
		Incident: inc,
	})
}

// verifyLink checks the :token parameter. On failure it answers the page
// (400 invalid, 410 expired) and returns ok false.
func (s *Server) verifyLink(c *fiber.Ctx) (id int64, action string, ok bool) {
	id, action, err := s.ackLinks.Verify(c.Params("token"))
	if err == nil && action != router.ActionAck && action != router.ActionResolve {
		err = fmt.Errorf("%w: action %q", router.ErrLinkInvalid, action)
	}
	if err == nil {
		return id, action, true
	}
	// The token is a credential: log why, never the token (nor the path).
	s.log.Debug("one-click link rejected", zap.String("method", c.Method()),
		zap.String("remote_ip", c.IP()), zap.Error(err))
	if errors.Is(err, router.ErrLinkExpired) {
		_ = s.renderLink(c, http.StatusGone, linkPage{
			Heading: "This link has expired",
			Message: "This link has expired — acknowledge in the API or your paging tool.",
		})
		return 0, "", false
	}
	_ = s.renderLink(c, http.StatusBadRequest, linkPage{
		Heading: "This link is not valid",
		Message: "Copy the whole link from the page, or acknowledge in the API or your paging tool.",
	})
	return 0, "", false
}

// linkFailure answers a failed read or action. The status codes are
// toHTTP's; the page is HTML rather than the API's JSON.
func (s *Server) linkFailure(c *fiber.Ctx, id int64, action string, err error) error {
	key := alert.IncidentKey(id)
	a := toHTTP(err)
	page := linkPage{Heading: "Something went wrong", Message: a.msg}
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.code = http.StatusNotFound
		page = linkPage{Heading: key + " was not found", Message: "The incident of this link no longer exists."}
	case errors.Is(err, store.ErrConflict):
		page = linkPage{Heading: key + " is already resolved", Message: "There is nothing left to " + strings.ToLower(s.linkVerbs(action).verb) + "."}
	case a.code >= http.StatusInternalServerError:
		fields := []zap.Field{zap.String("incident", key), zap.String("action", action), zap.Int("code", a.code), zap.Error(err)}
		if a.retryAfter {
			s.log.Warn("one-click link deferred", fields...)
		} else {
			s.log.Error("one-click link failed", fields...)
		}
	}
	if a.retryAfter {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterSeconds))
		page.Message += " Try again in a few seconds."
	}
	return s.renderLink(c, a.code, page)
}

func (s *Server) linkVerbs(action string) linkVerbs {
	if action == router.ActionResolve {
		return linkVerbs{do: s.actions.Resolve, verb: "Resolve", past: "resolved"}
	}
	return linkVerbs{do: s.actions.Acknowledge, verb: "Acknowledge", past: "acknowledged"}
}

// by returns "Resolved by alice." or "Resolved." when nobody is named.
func by(what, who string) string {
	if who == "" {
		return what + "."
	}
	return what + " by " + who + "."
}

// linkPage is what a link page shows; empty fields are left out.
type linkPage struct {
	Heading  string
	Message  string
	Incident *alert.Incident
	// Button, when set, adds the confirm form with this label.
	Button string
}

// renderLink answers page as HTML with code.
func (s *Server) renderLink(c *fiber.Ctx, code int, page linkPage) error {
	var buf bytes.Buffer
	if err := linkTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("render link page: %w", err)
	}
	c.Status(code)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

var linkTemplate = template.Must(template.New("link").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Heading}} · alertgate</title>
<link rel="stylesheet" href="/console/static/app.css">
</head>
<body>
<header class="top"><span class="brand">alertgate</span></header>
<main class="linkpage" id="main">
<h1>{{.Heading}}</h1>
{{with .Message}}<p>{{.}}</p>
{{end}}{{with .Incident}}<dl>
<dt>Incident</dt><dd><a href="/incidents/{{.Key}}" data-testid="link-incident">{{.Key}}</a></dd>
<dt>Title</dt><dd>{{.Title}}</dd>
<dt>Severity</dt><dd><span class="sev sev-p{{printf "%d" .Severity}}">{{.Severity}} {{.Severity.Name}}</span></dd>
<dt>Status</dt><dd>{{.Status}}</dd>
{{with .Service}}<dt>Service</dt><dd>{{.}}</dd>
{{end}}</dl>
{{end}}{{with .Button}}<form method="post">
<label for="actor">Your name (optional)</label>
<input id="actor" name="actor" maxlength="200" autocomplete="name">
<button type="submit" class="danger" data-testid="link-confirm">{{.}}</button>
</form>
{{end}}</main>
</body>
</html>
`))
