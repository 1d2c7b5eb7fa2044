package adapters

// Alertmanager webhook receiver, version 4
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config;
// fixtures adapters/testdata/alertmanager-*.json):
//
//	{
//	  "version": "4",
//	  "groupKey": "{}:{alertname=\"ServiceHighErrorRate\"}",
//	  "truncatedAlerts": 0,
//	  "status": "firing",
//	  "receiver": "web\\.hook",
//	  "notification_reason": "first notification",
//	  "groupLabels": {"alertname": "ServiceHighErrorRate"},
//	  "commonLabels": {"alertname": "ServiceHighErrorRate", "severity": "critical"},
//	  "commonAnnotations": null,
//	  "routeLabels": {},
//	  "externalURL": "http://alertmanager:9093",
//	  "alerts": [{
//	    "status": "firing",
//	    "labels": {"alertname": "ServiceHighErrorRate", "service_name": "frontend", "severity": "critical"},
//	    "annotations": {"summary": "frontend error rate above 5%", "description": "..."},
//	    "startsAt": "2026-08-24T10:34:30.583Z",
//	    "endsAt": "0001-01-01T00:00:00Z",
//	    "generatorURL": "http://prometheus:9090/graph?g0.expr=...",
//	    "fingerprint": "0eeee852e85422ff"
//	  }]
//	}
//
// Also accepted on an alertmanager source: Alertmanager API v2 postable
// alerts (POST /api/v2/alerts), a bare array
//
//	[{"labels": {"alertname": "DiskFull"}, "annotations": {}, "startsAt": "...", "endsAt": "...", "generatorURL": "..."}]
//
// whose alerts carry no status: an alert is resolved when its endsAt is set
// and not after the decoder's clock, firing otherwise (an explicit "status"
// field wins). Grafana's webhook (version "1") has the same shape and is
// accepted too.

import (
	"bytes"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
)

// webhookMessage is the Alertmanager v4 webhook body, plus the fields
// Grafana adds (unified version "1" and legacy alerting).
type webhookMessage struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    *int              `json:"truncatedAlerts"`
	Status             string            `json:"status"`
	Receiver           string            `json:"receiver"`
	Alerts             []webhookAlert    `json:"alerts"`
	NotificationReason string            `json:"notification_reason"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	RouteLabels        map[string]string `json:"routeLabels"`
	ExternalURL        string            `json:"externalURL"`

	// Grafana unified alerting.
	OrgID      int64  `json:"orgId"`
	Title      string `json:"title"`
	State      string `json:"state"`
	Message    string `json:"message"`
	AppVersion string `json:"appVersion"`

	legacyGrafana
}

// webhookLists are the arrays of a webhookMessage, counted before decoding.
var webhookLists = []string{"alerts", "evalMatches"}

// webhookAlert is one alert of a webhook message (or of an API v2 array).
type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`

	// Grafana unified alerting.
	SilenceURL   string             `json:"silenceURL"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	RuleUID      string             `json:"ruleUID"`
	Values       map[string]float64 `json:"values"`
	ValueString  string             `json:"valueString"`
	ImageURL     string             `json:"imageURL"`
	OrgID        *int64             `json:"orgId"`
}

// Alertmanager decodes Alertmanager webhook (v4) bodies and API v2 alert
// arrays.
type Alertmanager struct {
	source
	// now decides whether an API v2 alert's endsAt has passed.
	now func() time.Time
}

var _ Decoder = (*Alertmanager)(nil)

// NewAlertmanager returns the decoder of an alertmanager source; now dates
// API v2 alerts (New passes time.Now).
func NewAlertmanager(src config.Source, now func() time.Time) *Alertmanager {
	return &Alertmanager{source: source{name: src.Name, typ: src.Type, labels: src.Labels}, now: now}
}

// Decode implements Decoder.
func (d *Alertmanager) Decode(_ Header, body []byte) (Batch, error) {
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '[' {
		return d.decodePostable(body)
	}
	var msg webhookMessage
	if n := listCap(body, "alerts"); n > 0 {
		// encoding/json appends to a slice it is given.
		msg.Alerts = make([]webhookAlert, 0, n)
	}
	if err := decodeJSON(body, &msg, webhookLists...); err != nil {
		return Batch{}, err
	}
	switch msg.Version {
	case "4", "", "1":
	default:
		return Batch{}, badf("version: unsupported %q (want \"4\")", msg.Version)
	}
	return decodeWebhook(&d.source, &msg)
}

// decodePostable decodes an API v2 array of postable alerts.
func (d *Alertmanager) decodePostable(body []byte) (Batch, error) {
	alerts := make([]webhookAlert, 0, listCap(body, ""))
	if err := decodeJSON(body, &alerts, ""); err != nil {
		return Batch{}, err
	}
	if err := checkCount("body", len(alerts)); err != nil {
		return Batch{}, err
	}
	now := d.now()
	out := make([]alert.Alert, 0, len(alerts))
	for i := range alerts {
		w := &alerts[i]
		path := index("", i)
		if w.Status == "" {
			endsAt, err := parseTime(at(path, "endsAt"), w.EndsAt)
			if err != nil {
				return Batch{}, err
			}
			w.Status = string(alert.StatusFiring)
			if !endsAt.IsZero() && !endsAt.After(now) {
				w.Status = string(alert.StatusResolved)
			}
		}
		a, err := webhookAlertToAlert(&d.source, path, w, "")
		if err != nil {
			return Batch{}, err
		}
		out = append(out, a)
	}
	return Batch{Alerts: out}, nil
}

// decodeWebhook converts a decoded Alertmanager or Grafana webhook message.
func decodeWebhook(src *source, msg *webhookMessage) (Batch, error) {
	if msg.Alerts == nil {
		return Batch{}, badf("alerts: missing (want an array of alerts)")
	}
	if err := checkCount("alerts", len(msg.Alerts)); err != nil {
		return Batch{}, err
	}
	var groupStatus alert.Status
	if msg.Status != "" {
		st, err := parseStatus("status", msg.Status, "")
		if err != nil {
			return Batch{}, err
		}
		groupStatus = st
	}
	b := Batch{
		Alerts:   make([]alert.Alert, 0, len(msg.Alerts)),
		GroupKey: cleanText(msg.GroupKey),
		Receiver: cleanText(unquoteMeta(msg.Receiver)),
	}
	if msg.TruncatedAlerts != nil {
		if *msg.TruncatedAlerts < 0 {
			return Batch{}, badf("truncatedAlerts: negative (%d)", *msg.TruncatedAlerts)
		}
		b.Truncated = min(*msg.TruncatedAlerts, MaxTruncated)
	}
	for i := range msg.Alerts {
		w := &msg.Alerts[i]
		if w.OrgID == nil && msg.OrgID != 0 {
			w.OrgID = &msg.OrgID
		}
		a, err := webhookAlertToAlert(src, index("alerts", i), w, groupStatus)
		if err != nil {
			return Batch{}, err
		}
		b.Alerts = append(b.Alerts, a)
	}
	return b, nil
}

// webhookAlertToAlert converts one alert; path names it in errors and
// groupStatus stands in for a missing per-alert status.
func webhookAlertToAlert(src *source, path string, w *webhookAlert, groupStatus alert.Status) (alert.Alert, error) {
	if len(w.Labels) == 0 {
		return alert.Alert{}, badf("%s: no labels (at least one label pair required)", at(path, "labels"))
	}
	st, err := parseStatus(at(path, "status"), w.Status, groupStatus)
	if err != nil {
		return alert.Alert{}, err
	}
	startsAt, err := parseTime(at(path, "startsAt"), w.StartsAt)
	if err != nil {
		return alert.Alert{}, err
	}
	endsAt, err := parseTime(at(path, "endsAt"), w.EndsAt)
	if err != nil {
		return alert.Alert{}, err
	}
	ann := w.Annotations
	if ann == nil {
		ann = map[string]string{}
	}
	addGrafanaExtras(ann, w)
	a := alert.Alert{
		Status:       st,
		Fingerprint:  w.Fingerprint,
		Annotations:  ann,
		Title:        firstOf(ann["summary"], ann["title"], w.Labels["alertname"], labelString(w.Labels)),
		Description:  firstOf(ann["description"], ann["message"]),
		StartsAt:     startsAt,
		EndsAt:       endsAt,
		GeneratorURL: w.GeneratorURL,
	}
	src.finish(&a, w.Labels)
	return a, nil
}

// addGrafanaExtras records Grafana's per-alert extras as annotations, each
// only when present.
func addGrafanaExtras(ann map[string]string, w *webhookAlert) {
	setIf(ann, "grafana_value_string", w.ValueString)
	setIf(ann, "silence_url", w.SilenceURL)
	setIf(ann, "dashboard_url", w.DashboardURL)
	setIf(ann, "panel_url", w.PanelURL)
	setIf(ann, "image_url", w.ImageURL)
	setIf(ann, "grafana_rule_uid", w.RuleUID)
	if len(w.Values) > 0 {
		ann["grafana_values"] = formatValues(w.Values)
	}
	if w.OrgID != nil && *w.OrgID != 0 {
		ann["grafana_org_id"] = strconv.FormatInt(*w.OrgID, 10)
	}
}

// formatValues renders Grafana's values as "B=44.239 C=1", sorted by name.
func formatValues(values map[string]float64) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + strconv.FormatFloat(values[k], 'g', -1, 64))
	}
	return b.String()
}

// labelString renders a label set as Alertmanager does: {a="1", b="2"}.
func labelString(labels map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// unquoteMeta undoes regexp.QuoteMeta, which Alertmanager applies to the
// receiver name: `web\.hook` becomes "web.hook".
func unquoteMeta(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`\.+*?()|[]{}^$`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
