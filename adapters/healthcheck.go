package adapters

// Health-check probes. The native probe format, one result per body or a
// JSON array of them:
//
//	{
//	  "check":    "api-health",               // required: what was probed
//	  "status":   "down",                     // required: "down" (firing) or "up" (resolved)
//	  "message":  "GET /healthz: 503 after 2.1s",
//	  "url":      "https://api.example.com/healthz",
//	  "service":  "api",
//	  "severity": "P1",                       // optional severity hint for the rules
//	  "labels":   {"team": "payments"},       // optional, string values
//	  "time":     "2026-08-24T10:34:30Z",     // optional RFC 3339; when the state began (annotation probe_time)
//	  "id":       "api-health-eu"             // optional stable identity, default the check name
//	}
//
// The same decoder recognises, by their shape, the webhooks of Uptime Kuma
// (uptimekuma.go), Gatus (gatus.go) and Healthchecks.io
// (healthchecksio.go). Every probe alert gets the labels probe="true" and
// check=<name>, instance=<url or host> when known, and the annotation
// probe_format (native, uptime-kuma, gatus, healthchecks.io), and the
// payload's own time as probe_time; starts_at and ends_at are left unset
// for the gateway to stamp with its own clock on receipt. Its
// fingerprint hashes the source name and the check's identity, so the
// down and the later up of one check share it. Title is "<check> is down"
// or "<check> is up".

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/alertgate/alertgate/alert"
)

// ProbeTimeAnnotation holds a probe payload's own time (RFC 3339, UTC):
// when the state began, or when the probe sent it. A probe alert's
// starts_at and ends_at are the gateway's receive time instead.
const ProbeTimeAnnotation = "probe_time"

// Probe formats, recorded in the probe_format annotation.
const (
	formatNative      = "native"
	formatUptimeKuma  = "uptime-kuma"
	formatGatus       = "gatus"
	formatHealthcheck = "healthchecks.io"
)

// acceptedProbeFormats is quoted when a body matches no known shape.
const acceptedProbeFormats = `want a native probe {"check","status"} or an array of them, ` +
	`Uptime Kuma {"heartbeat","monitor","msg"}, Gatus {"state","endpoint"} or {"endpoint_name","resolved"}, ` +
	`or Healthchecks.io {"status","check":{...}}`

// Healthcheck decodes probe results: the native probe format, Uptime Kuma,
// Gatus and Healthchecks.io webhooks, told apart by their shape.
type Healthcheck struct {
	source
}

var _ Decoder = (*Healthcheck)(nil)

// Decode implements Decoder.
func (d *Healthcheck) Decode(h Header, body []byte) (Batch, error) {
	body, err := formField(h, body)
	if err != nil {
		return Batch{}, err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return Batch{}, badf("empty body")
	}
	if err := validJSON(body); err != nil {
		return Batch{}, err
	}
	switch body[0] {
	case '[':
		return d.decodeNativeArray(body)
	case '{':
	default:
		return Batch{}, badf("body: not an object (%s)", acceptedProbeFormats)
	}
	has := func(key string) gjson.Result { return gjson.GetBytes(body, key) }
	check := has("check")
	switch {
	case has("heartbeat").Exists() || has("monitor").Exists():
		return d.decodeUptimeKuma(body)
	case check.IsObject():
		return d.decodeHealthchecksIO(body)
	case check.Exists():
		return d.decodeNativeOne(body)
	case has("endpoint_name").Exists() || has("resolved").Exists() || has("state").Exists() || has("endpoint").Exists():
		return d.decodeGatus(body)
	case has("text").Type == gjson.String:
		return d.decodeGatusText(has("text").String())
	}
	return Batch{}, badf("unknown probe payload (%s)", acceptedProbeFormats)
}

// nativeProbe is one result in the native probe format.
type nativeProbe struct {
	Check    string            `json:"check"`
	Status   string            `json:"status"`
	Message  string            `json:"message"`
	URL      string            `json:"url"`
	Service  string            `json:"service"`
	Severity string            `json:"severity"`
	Labels   map[string]string `json:"labels"`
	Time     string            `json:"time"`
	ID       string            `json:"id"`
}

func (d *Healthcheck) decodeNativeOne(body []byte) (Batch, error) {
	var p nativeProbe
	if err := decodeJSON(body, &p); err != nil {
		return Batch{}, err
	}
	a, err := d.nativeAlert("", &p)
	if err != nil {
		return Batch{}, err
	}
	return Batch{Alerts: []alert.Alert{a}}, nil
}

func (d *Healthcheck) decodeNativeArray(body []byte) (Batch, error) {
	var ps []nativeProbe
	if err := decodeJSON(body, &ps, ""); err != nil {
		return Batch{}, err
	}
	if err := checkCount("body", len(ps)); err != nil {
		return Batch{}, err
	}
	out := make([]alert.Alert, 0, len(ps))
	for i := range ps {
		a, err := d.nativeAlert(index("", i), &ps[i])
		if err != nil {
			return Batch{}, err
		}
		out = append(out, a)
	}
	return Batch{Alerts: out}, nil
}

func (d *Healthcheck) nativeAlert(path string, p *nativeProbe) (alert.Alert, error) {
	if p.Check == "" {
		return alert.Alert{}, badf("%s: missing", at(path, "check"))
	}
	var status alert.Status
	switch strings.ToLower(p.Status) {
	case "down":
		status = alert.StatusFiring
	case "up":
		status = alert.StatusResolved
	default:
		return alert.Alert{}, badf("%s: invalid %q (want down or up)", at(path, "status"), p.Status)
	}
	t, err := parseTime(at(path, "time"), p.Time)
	if err != nil {
		return alert.Alert{}, err
	}
	labels := p.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	if p.Service != "" && labels["service"] == "" {
		labels["service"] = p.Service
	}
	r := probeResult{
		format:   formatNative,
		check:    p.Check,
		id:       firstOf(p.ID, p.Check),
		status:   status,
		at:       t,
		message:  p.Message,
		instance: p.URL,
		url:      p.URL,
		service:  p.Service,
		severity: p.Severity,
		labels:   labels,
	}
	return d.probeAlert(&r), nil
}

// probeResult is what every probe format boils down to.
type probeResult struct {
	format   string
	check    string // name, becomes the check label and the title
	id       string // stable identity within the format
	status   alert.Status
	at       time.Time // the payload's time (probe_time); zero when unknown
	message  string
	instance string
	url      string
	service  string
	severity string
	labels   map[string]string // extra labels, may be nil; probe labels win
	ann      map[string]string // extra annotations, may be nil
}

// probeAlert builds the alert for a probe result.
func (d *Healthcheck) probeAlert(r *probeResult) alert.Alert {
	labels := r.labels
	if labels == nil {
		labels = make(map[string]string, 3)
	}
	labels["probe"] = "true"
	labels["check"] = r.check
	setIf(labels, "instance", r.instance)
	ann := r.ann
	if ann == nil {
		ann = make(map[string]string, 1)
	}
	ann["probe_format"] = r.format
	a := alert.Alert{
		Status: r.status,
		Fingerprint: alert.FingerprintLabels(map[string]string{
			"source": d.name, "format": r.format, "check": r.id,
		}),
		Annotations:  ann,
		Title:        r.check + " is down",
		Description:  r.message,
		Service:      r.service,
		GeneratorURL: r.url,
		SeverityHint: r.severity,
	}
	if r.status == alert.StatusResolved {
		a.Title = r.check + " is up"
	}
	// Probe clocks are the probes' own (Uptime Kuma's test button sends
	// a time from 2023), and a resolution carries no start: starts_at and
	// ends_at are left to the gateway's clock at receipt, and the payload's
	// time is kept as it is.
	if !r.at.IsZero() {
		ann[ProbeTimeAnnotation] = r.at.UTC().Format(time.RFC3339Nano)
	}
	d.finish(&a, labels)
	return a
}

// formField returns the "data" field of a multipart/form-data body (Uptime
// Kuma's form-data mode) and any other body unchanged.
func formField(h Header, body []byte) ([]byte, error) {
	if h == nil {
		return body, nil
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return body, nil
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return nil, badf(`multipart body: no "data" field`)
		}
		if err != nil {
			return nil, badf("multipart body: %v", err)
		}
		if p.FormName() == "data" {
			data, err := io.ReadAll(io.LimitReader(p, int64(len(body))))
			if err != nil {
				return nil, badf("multipart body: %v", err)
			}
			return data, nil
		}
	}
}
