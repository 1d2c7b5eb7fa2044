package router

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// Step types carried in a step job's payload.
const (
	stepPage     = "page"     // page a role (matrix cell)
	stepAnnounce = "announce" // tell a channel or the status page
	stepAck      = "ack"      // tell paged targets of the acknowledgement
	stepResolve  = "resolve"  // tell paged targets and channels of the resolution
	stepSLA      = "sla"      // a response or resolution deadline passed
	stepRemind   = "remind"   // no status update within the cadence
	stepUpdate   = "update"   // fan a status update out
	stepTicket   = "ticket"   // file the incident with the ticket target
	stepFlapEnd  = "flap-end" // a flapping incident stayed resolved for the window
)

// SLA kinds, the label of alertgate_sla_breaches_total.
const (
	slaResponse   = "response"
	slaResolution = "resolution"
)

type stepPayload struct {
	Type    string `json:"type"`
	Role    string `json:"role,omitempty"`
	Seq     int    `json:"seq,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Tag is the plan's tag (PlanOptions.Tag): "" for the first plan,
	// "r2" after the second reopening, "s0" after a raise to P0.
	Tag string `json:"tag,omitempty"`
	// Flapping marks the one page of an incident that started flapping:
	// it does not repeat.
	Flapping bool `json:"flapping,omitempty"`
	// SLA is response or resolution (sla steps).
	SLA string `json:"sla,omitempty"`
	// Resolved is the resolution a flap-end step belongs to (Unix ms): a
	// reopen since then makes the step moot.
	Resolved int64 `json:"resolved,omitempty"`
	// Text is a status update's text (update steps).
	Text string `json:"text,omitempty"`
}

// keyPrefix is where a plan's step keys start: "INC-7/" or "INC-7/r2/".
func keyPrefix(inc *alert.Incident, tag string) string {
	if tag == "" {
		return inc.Key + "/"
	}
	return inc.Key + "/" + tag + "/"
}

// Planner turns the escalation matrix into durable steps. It implements
// store.Planner and is immutable.
type Planner struct {
	cfg *config.Config
}

var _ store.Planner = (*Planner)(nil)

// NewPlanner builds the planner of a validated config.
func NewPlanner(cfg *config.Config) *Planner { return &Planner{cfg: cfg} }

// FlappingPolicy is the store's flapping hysteresis of a config
// (dedup.flapping).
func FlappingPolicy(cfg *config.Config) store.Flapping {
	return store.Flapping{Reopens: cfg.Dedup.Flapping.Reopens, Window: cfg.Dedup.Flapping.Window.D()}
}

// Deadlines returns the severity's response and resolution targets.
func (p *Planner) Deadlines(sev alert.Severity) (time.Duration, time.Duration) {
	l := p.cfg.Severities.Level(sev)
	return l.Response.D(), l.Resolution.D()
}

// Plan returns the steps an incident change implies:
//   - opened: one step per timed matrix cell of the incident's severity,
//     due at opened+delay, stopping on the row's condition; one announce
//     step per internal channel (and the status page) of that severity.
//   - acknowledged / resolved: one step that tells the paged targets (and,
//     on resolve, the channels).
//   - reopened / raised: a fresh plan, as for opened (without the ticket;
//     a reopen without the SLA steps), counted from opt.Base, with keys
//     tagged opt.Tag so they don't collide with the steps of earlier
//     plans; steps due earlier than opt.NotBefore wait for it.
//   - flapping: the internal channels of the severity are told, and the
//     flapping role (dedup.flapping.role, else the matrix's first row) is
//     paged once, at its cell's delay, without repeats.
//   - flapped: the internal channels are told; nobody is paged.
func (p *Planner) Plan(c store.Change, inc *alert.Incident, opt store.PlanOptions) []store.JobSpec {
	var out []store.JobSpec
	base := opt.Base
	if base.IsZero() {
		base = inc.OpenedAt
	}
	prefix := keyPrefix(inc, opt.Tag)
	due := func(d time.Duration) time.Time {
		t := base.Add(d)
		if t.Before(opt.NotBefore) {
			return opt.NotBefore
		}
		return t
	}
	switch c {
	case store.ChangeOpened, store.ChangeReopened, store.ChangeRaised:
		// A page per matrix row, an announcement per channel, the status
		// page, a ticket, two SLA timers and a reminder at most.
		out = make([]store.JobSpec, 0, len(p.cfg.Escalation.Matrix)+len(p.cfg.Communication.Channels)+5)
		for _, row := range p.cfg.Escalation.Matrix {
			cell := row.Cell(inc.Severity)
			if !cell.Timed() {
				continue
			}
			out = append(out, stepJob(prefix+"page/"+row.Role+"#0", due(cell.Delay), alert.IncidentStatus(row.StopOn),
				stepPayload{Type: stepPage, Role: row.Role, Tag: opt.Tag}))
		}
		for _, ch := range p.cfg.Communication.Channels {
			if hasSeverity(ch.Severities, inc.Severity) && len(ch.Targets) > 0 {
				out = append(out, stepJob(prefix+"announce/"+ch.Name, base, "", stepPayload{Type: stepAnnounce, Channel: ch.Name, Tag: opt.Tag}))
			}
		}
		sp := p.cfg.Communication.StatusPage
		if hasSeverity(sp.Severities, inc.Severity) && len(sp.Targets) > 0 {
			out = append(out, stepJob(prefix+"announce/status-page", base, "", stepPayload{Type: stepAnnounce, Channel: statusPageChannel, Tag: opt.Tag}))
		}
		if tk := p.cfg.Communication.Ticket; c == store.ChangeOpened && tk != nil && (len(tk.Severities) == 0 || hasSeverity(tk.Severities, inc.Severity)) {
			out = append(out, stepJob(prefix+"ticket", base, "", stepPayload{Type: stepTicket}))
		}
		if c != store.ChangeReopened {
			// SLA deadlines count from the opening; a reopened incident
			// keeps the verdicts it already had.
			out = append(out,
				stepJob(prefix+"sla/"+slaResponse, inc.AckDue, alert.IncidentAcknowledged, stepPayload{Type: stepSLA, SLA: slaResponse, Tag: opt.Tag}),
				stepJob(prefix+"sla/"+slaResolution, inc.ResolveDue, alert.IncidentResolved, stepPayload{Type: stepSLA, SLA: slaResolution, Tag: opt.Tag}))
		}
		if every := p.cfg.Severities.Level(inc.Severity).Updates.D(); every > 0 {
			out = append(out, stepJob(prefix+"remind#0", base.Add(every), alert.IncidentResolved, stepPayload{Type: stepRemind, Tag: opt.Tag}))
		}
	case store.ChangeFlapping, store.ChangeFlapped:
		for _, ch := range p.cfg.Communication.Channels {
			if hasSeverity(ch.Severities, inc.Severity) && len(ch.Targets) > 0 {
				out = append(out, stepJob(prefix+"announce/"+ch.Name, base, "", stepPayload{Type: stepAnnounce, Channel: ch.Name, Tag: opt.Tag}))
			}
		}
		if row := p.cfg.FlappingRow(); c == store.ChangeFlapping && row != nil {
			if cell := row.Cell(inc.Severity); cell.Timed() {
				out = append(out, stepJob(prefix+"page/"+row.Role+"#0", due(cell.Delay), alert.IncidentStatus(row.StopOn),
					stepPayload{Type: stepPage, Role: row.Role, Tag: opt.Tag, Flapping: true}))
			}
		}
	case store.ChangeAcknowledged:
		out = append(out, stepJob(inc.Key+"/ack@"+strconv.FormatInt(inc.AcknowledgedAt.UnixMilli(), 10), inc.AcknowledgedAt, "", stepPayload{Type: stepAck}))
	case store.ChangeUpdate:
		out = append(out, stepJob(inc.Key+"/"+opt.Tag, base, "", stepPayload{Type: stepUpdate, Text: opt.Note}))
	case store.ChangeResolved:
		at := strconv.FormatInt(inc.ResolvedAt.UnixMilli(), 10)
		out = append(out, stepJob(inc.Key+"/resolve@"+at, inc.ResolvedAt, "", stepPayload{Type: stepResolve}))
		// A flapping incident's resolution is final once it has stayed
		// resolved for the window: then the flag ends and the resolution
		// summary goes out (see the engine's flapEnd).
		if w := p.cfg.Dedup.Flapping.Window.D(); inc.Flapping && w > 0 {
			out = append(out, stepJob(inc.Key+"/flap-end@"+at, inc.ResolvedAt.Add(w), "",
				stepPayload{Type: stepFlapEnd, Resolved: inc.ResolvedAt.UnixMilli()}))
		}
	}
	return out
}

// statusPageChannel names the status page where a channel name is expected.
const statusPageChannel = "status-page"

func stepJob(key string, due time.Time, stop alert.IncidentStatus, p stepPayload) store.JobSpec {
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("encode step payload: %v", err)) // plain struct: cannot fail
	}
	return store.JobSpec{Key: key, Kind: store.KindStep, DueAt: due, StopOn: stop, Payload: b}
}

func hasSeverity(list []string, sev alert.Severity) bool {
	for _, s := range list {
		if v, err := alert.ParseSeverity(s); err == nil && v == sev {
			return true
		}
	}
	return false
}
