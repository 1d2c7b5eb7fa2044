package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/store"
)

// PagerDuty webhook v3 wire constants.
const (
	pagerDutySignatureHeader = "X-PagerDuty-Signature"
	pagerDutyDeliveryHeader  = "X-Webhook-Id"
	pagerDutySigPrefix       = "v1="
	pagerDutyEventAck        = "incident.acknowledged"
	pagerDutyEventResolve    = "incident.resolved"
	pagerDutyActorPrefix     = "pagerduty"
)

// pagerDutyDedupPrefix is what router/deliver.go puts before the incident
// key in every dedup_key it sends.
const pagerDutyDedupPrefix = "alertgate/"

// pagerDutyTimeout bounds the store call: PagerDuty waits 5s for a 2xx and
// retries a timeout, so a slow store answers 503 (retried) before that.
const pagerDutyTimeout = 4 * time.Second

// pagerDutyWindow is how far an event's occurred_at may be from now: a
// delivery older (a replay, or one delayed past it) or from further in the
// future is refused. Applied event ids are remembered for twice as long
// (see WebhookEvents), so an event passes once.
const pagerDutyWindow = 5 * time.Minute

// maxPagerDutyEventID bounds the event id kept for replay protection
// (PagerDuty's are 26 characters).
const maxPagerDutyEventID = 128

// pagerDutyChallenge is the WWW-Authenticate value of a 401.
const pagerDutyChallenge = `HMAC-SHA256 ` + realm + `, header="` + pagerDutySignatureHeader + `"`

// PagerDutyWebhook receives PagerDuty webhooks (v3): acknowledging or
// resolving in PagerDuty acknowledges or resolves the incident here, which
// cancels the escalation steps that stop on it, exactly as the API's /ack
// and /resolve do. It is safe for concurrent use.
//
// Setting it up in PagerDuty: Integrations → Generic Webhooks (v3) → New
// Webhook. Webhook URL: https://<alertgate>/api/v1/webhooks/pagerduty;
// Scope Type: Service, the service(s) whose Events API v2 integration
// alertgate pages (the routing_key of the pagerduty target); Event
// Subscription: incident.acknowledged and incident.resolved (others are
// accepted and ignored). PagerDuty shows the subscription's signing secret
// once, on creation: put it into the pagerduty target's webhook_secret
// (targets[].webhook_secret). During a rotation PagerDuty signs with each
// active secret and any match with any configured secret is accepted.
//
// Only incidents this gateway opened are touched: alertgate triggers with
// dedup_key "alertgate/INC-7", which PagerDuty reports back as the
// incident's incident_key. Everything else is answered 202 and ignored,
// since PagerDuty drops a delivery answered 4xx and disables a
// subscription after three dropped deliveries in a row. Two gateways
// paging the same PagerDuty service would both send "alertgate/INC-7":
// scope each subscription to the services of one gateway.
//
// A delivery (headers X-PagerDuty-Signature: v1=<hex>, X-Webhook-Id; the
// full sample is testdata/pagerduty-webhook-acknowledged.json):
//
//	{"event": {
//	  "id": "01DEN0UHNDQ2ZJ6M5HHZ8BIAOR",
//	  "event_type": "incident.acknowledged",
//	  "resource_type": "incident",
//	  "occurred_at": "2025-03-14T09:31:02.318Z",
//	  "agent": {"id": "PLH1HKV", "summary": "Jane Doe", "type": "user_reference", ...},
//	  "data": {"id": "Q1KQ8VV0ZT7RPC", "type": "incident", "status": "acknowledged",
//	           "incident_key": "alertgate/INC-7",
//	           "html_url": "https://acme.pagerduty.com/incidents/Q1KQ8VV0ZT7RPC", ...}}}
type PagerDutyWebhook struct {
	secrets [][]byte
	actions Actions
	events  WebhookEvents
	now     func() time.Time
	log     *zap.Logger
}

// NewPagerDutyWebhook returns the handler for POST
// /api/v1/webhooks/pagerduty. secrets are the subscription signing
// secrets (several during a rotation); empty ones are dropped, and without
// any the handler refuses every request. events remembers the ids of
// applied events (the store, so that every replica refuses a replay; nil:
// this process's memory). A nil now is time.Now; a nil log discards.
func NewPagerDutyWebhook(secrets [][]byte, actions Actions, events WebhookEvents, now func() time.Time, log *zap.Logger) *PagerDutyWebhook {
	if log == nil {
		log = zap.NewNop()
	}
	if now == nil {
		now = time.Now
	}
	if events == nil {
		events = newMemoryEvents(now)
	}
	p := &PagerDutyWebhook{actions: actions, events: events, now: now, log: log}
	for _, s := range secrets {
		if len(s) > 0 {
			p.secrets = append(p.secrets, bytes.Clone(s))
		}
	}
	return p
}

// pagerDutyAccepted is the body of every 2xx answer.
type pagerDutyAccepted struct {
	Status string `json:"status"`
}

// pagerDutyPayload is the part of a v3 webhook that alertgate reads.
type pagerDutyPayload struct {
	Event *pagerDutyEvent `json:"event"`
}

type pagerDutyEvent struct {
	ID           string              `json:"id"`
	EventType    string              `json:"event_type"`
	ResourceType string              `json:"resource_type"`
	OccurredAt   string              `json:"occurred_at"`
	Agent        *pagerDutyReference `json:"agent"`
	// Data's shape depends on EventType; it is decoded only for the
	// incident events acted on.
	Data json.RawMessage `json:"data"`
}

// pagerDutyReference is PagerDuty's reference object (user_reference,
// service_reference, ...).
type pagerDutyReference struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	HTMLURL string `json:"html_url"`
}

// pagerDutyIncident is event.data of the incident.* events.
type pagerDutyIncident struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Number      int64  `json:"number"`
	Status      string `json:"status"`
	IncidentKey string `json:"incident_key"`
	HTMLURL     string `json:"html_url"`
}

// Handle is the fiber handler. Answers: 202 when the event was applied
// or deliberately ignored; 401 for a missing or wrong signature (or no
// secret configured); 400 for a malformed body, and for an acknowledge or
// resolve event without an id or whose occurred_at is more than 5 minutes
// from now (a replay of an old delivery); 409 for an event id already
// applied (a replay within the window); 503 (retried by PagerDuty) when
// the store is unavailable.
func (p *PagerDutyWebhook) Handle(c *fiber.Ctx) error {
	body := c.BodyRaw()
	if err := p.verify(c.Get(pagerDutySignatureHeader), body); err != nil {
		return err
	}
	ev, err := decodePagerDutyEvent(body)
	if err != nil {
		return err
	}
	log := p.log.With(
		zap.String("event_id", ev.ID),
		zap.String("event_type", ev.EventType),
		zap.String("delivery_id", strings.Clone(c.Get(pagerDutyDeliveryHeader))),
	)

	var (
		verb string
		do   actionFunc
	)
	switch ev.EventType {
	case pagerDutyEventAck:
		verb, do = "acknowledged", p.actions.Acknowledge
	case pagerDutyEventResolve:
		verb, do = "resolved", p.actions.Resolve
	default:
		log.Debug("pagerduty webhook ignored", zap.String("reason", "event type not handled"))
		return pagerDutyAccept(c)
	}
	var inc pagerDutyIncident
	if err := json.Unmarshal(ev.Data, &inc); err != nil || inc.Type != "incident" {
		return badRequest("invalid event.data: want an incident object for %s", ev.EventType)
	}
	now := p.now()
	if err := checkPagerDutyEvent(ev, now); err != nil {
		return err
	}
	agent := ""
	if ev.Agent != nil {
		agent = ev.Agent.Summary
	}
	if err := refuseBadText("invalid webhook", textField{"event.id", ev.ID}, textField{"event.agent.summary", agent},
		textField{"event.data.html_url", inc.HTMLURL}); err != nil {
		return err
	}
	log = log.With(zap.String("pagerduty_incident", inc.ID), zap.String("incident_key", inc.IncidentKey))
	id, ok := incidentFromDedupKey(inc.IncidentKey)
	if !ok {
		log.Debug("pagerduty webhook ignored", zap.String("reason", "incident not opened by alertgate"))
		return pagerDutyAccept(c)
	}

	key := alert.IncidentKey(id)
	actor := pagerDutyActor(ev.Agent)
	ctx, cancel := context.WithTimeout(c.UserContext(), pagerDutyTimeout)
	defer cancel()
	eventKey := pagerDutyActorPrefix + ":" + ev.ID
	fresh, err := p.events.ClaimWebhookEvent(ctx, eventKey, now.Add(2*pagerDutyWindow))
	if err != nil {
		return fmt.Errorf("pagerduty webhook %s: %w", key, err)
	}
	if !fresh {
		log.Warn("pagerduty webhook replayed", zap.String("incident", key))
		return newHTTPError(fiber.StatusConflict, "event %s was already received", ev.ID)
	}
	_, err = do(ctx, id, actor, pagerDutyNote(verb, inc.HTMLURL))
	if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		// Not applied: PagerDuty's retry of this event must be taken.
		if ferr := p.events.ForgetWebhookEvent(context.WithoutCancel(ctx), eventKey); ferr != nil {
			log.Warn("forget the pagerduty event id", zap.Error(ferr))
		}
	}
	switch {
	case err == nil:
		log.Info("incident "+verb+" in pagerduty", zap.String("incident", key), zap.String("actor", actor))
	case errors.Is(err, store.ErrConflict):
		// E.g. acknowledged in PagerDuty after it was resolved here.
		log.Info("pagerduty webhook not applied", zap.String("incident", key), zap.Error(err))
	case errors.Is(err, store.ErrNotFound):
		// Another gateway's incident, or this database was reset.
		log.Warn("pagerduty webhook for an unknown incident", zap.String("incident", key))
	default:
		return fmt.Errorf("pagerduty webhook %s: %w", key, err)
	}
	return pagerDutyAccept(c)
}

// checkPagerDutyEvent refuses an event that replay protection cannot
// vouch for: without an id, or outside pagerDutyWindow around now.
func checkPagerDutyEvent(ev *pagerDutyEvent, now time.Time) error {
	if ev.ID == "" || len(ev.ID) > maxPagerDutyEventID {
		return badRequest("invalid webhook: event.id must be 1 to %d characters", maxPagerDutyEventID)
	}
	at, err := time.Parse(time.RFC3339Nano, ev.OccurredAt)
	if err != nil {
		return badRequest("invalid webhook: event.occurred_at must be an RFC 3339 time")
	}
	if d := now.Sub(at); d > pagerDutyWindow || d < -pagerDutyWindow {
		return badRequest("event occurred at %s, more than %s from now: refused as a replay or a late delivery",
			at.UTC().Format(time.RFC3339), pagerDutyWindow)
	}
	return nil
}

// verify checks the signature header against every configured secret.
// Its errors are 401s that never repeat what the client sent.
func (p *PagerDutyWebhook) verify(header string, body []byte) error {
	if len(p.secrets) == 0 {
		return unauthorized(pagerDutyChallenge, "no webhook secret configured")
	}
	if strings.TrimSpace(header) == "" {
		return unauthorized(pagerDutyChallenge, "missing signature header "+pagerDutySignatureHeader)
	}
	sigs := parsePagerDutySignatures(header)
	if len(sigs) == 0 {
		return unauthorized(pagerDutyChallenge, "malformed signature (want v1=<hex HMAC-SHA256>)")
	}
	for _, secret := range p.secrets {
		m := hmac.New(sha256.New, secret)
		m.Write(body)
		want := m.Sum(nil)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				return nil
			}
		}
	}
	return unauthorized(pagerDutyChallenge, "invalid signature")
}

// maxPagerDutySignatures bounds the work one request can cause; PagerDuty
// sends one signature per active secret.
const maxPagerDutySignatures = 8

// parsePagerDutySignatures returns the decoded v1 signatures of the
// header "v1=<hex>,v1=<hex>"; other versions and malformed values are
// skipped.
func parsePagerDutySignatures(header string) [][]byte {
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		hexSig, ok := strings.CutPrefix(strings.TrimSpace(part), pagerDutySigPrefix)
		if !ok {
			continue
		}
		sig, err := hex.DecodeString(hexSig)
		if err != nil || len(sig) != sha256.Size {
			continue
		}
		sigs = append(sigs, sig)
		if len(sigs) == maxPagerDutySignatures {
			break
		}
	}
	return sigs
}

// decodePagerDutyEvent parses the webhook body. Unknown fields are
// allowed: PagerDuty adds fields without a version change.
func decodePagerDutyEvent(body []byte) (*pagerDutyEvent, error) {
	var p pagerDutyPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, badRequest("invalid JSON body: %v", err)
	}
	if p.Event == nil || p.Event.EventType == "" {
		return nil, badRequest("invalid webhook: missing event.event_type")
	}
	return p.Event, nil
}

// incidentFromDedupKey maps "alertgate/INC-7" to 7; false for keys that
// this gateway did not send.
func incidentFromDedupKey(k string) (int64, bool) {
	rest, ok := strings.CutPrefix(k, pagerDutyDedupPrefix)
	if !ok {
		return 0, false
	}
	return alert.ParseIncidentKey(rest)
}

// pagerDutyActor names who acted: "pagerduty:Jane Doe" for a user, the
// bare "pagerduty" when the agent is unknown.
func pagerDutyActor(agent *pagerDutyReference) string {
	if agent == nil {
		return pagerDutyActorPrefix
	}
	name := strings.TrimSpace(agent.Summary)
	if name == "" {
		return pagerDutyActorPrefix
	}
	actor := pagerDutyActorPrefix + ":" + name
	return truncateRunes(actor, maxActorLen)
}

// pagerDutyNote is the timeline note, linking the PagerDuty incident.
func pagerDutyNote(verb, htmlURL string) string {
	note := verb + " in PagerDuty"
	if htmlURL != "" {
		note += " (" + htmlURL + ")"
	}
	if len(note) > maxNoteLen {
		return verb + " in PagerDuty"
	}
	return note
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// pagerDutyAccept answers 202, PagerDuty's recommended success code.
func pagerDutyAccept(c *fiber.Ctx) error {
	return c.Status(fiber.StatusAccepted).JSON(pagerDutyAccepted{Status: "accepted"})
}
