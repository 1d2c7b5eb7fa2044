package adapters

// Grafana unified alerting webhook contact point
// (https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/;
// fixtures adapters/testdata/grafana-*.json):
// Alertmanager's shape with version "1" and a few extras.
//
//	{
//	  "receiver": "My Super Webhook", "status": "firing", "orgId": 1, "version": "1",
//	  "groupKey": "{}:{}", "truncatedAlerts": 0, "title": "[FIRING:1]  (blue)", "state": "alerting",
//	  "alerts": [{
//	    "status": "firing",
//	    "labels": {"alertname": "High memory usage", "team": "blue"},
//	    "annotations": {"summary": "...", "description": "...", "runbook_url": "..."},
//	    "startsAt": "2021-10-12T09:51:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
//	    "generatorURL": "https://grafana/alerting/1afz29v7z/edit", "fingerprint": "c6eadffa33fcdf37",
//	    "silenceURL": "https://grafana/alerting/silence/new?...", "dashboardURL": "", "panelURL": "",
//	    "values": {"B": 44.2, "C": 1}, "valueString": "[ var='B' labels={} value=44.2 ]"
//	  }],
//	  "groupLabels": {}, "commonLabels": {"team": "blue"}, "commonAnnotations": {},
//	  "externalURL": "https://grafana/", "message": "**Firing** ..."
//	}
//
// The extras become annotations when non-empty: grafana_value_string,
// grafana_values ("B=44.2 C=1"), silence_url, dashboard_url, panel_url,
// image_url, grafana_rule_uid, grafana_org_id. Mimir-style Grafana webhooks
// send Alertmanager's version "4", which is accepted too.
//
// Legacy Grafana alerting (≤ 8) sent one rule per body:
//
//	{"ruleId": 1, "ruleName": "Panel Title alert", "ruleUrl": "http://grafana/d/...", "state": "alerting",
//	 "title": "[Alerting] Panel Title alert", "message": "Notification Message",
//	 "evalMatches": [{"value": 1, "metric": "Count", "tags": {}}], "tags": {"team": "blue"}}
//
// state alerting → firing, ok → resolved, no_data → firing (annotation
// grafana_state=no_data), paused and pending → no alert. The fingerprint
// hashes ruleId (or ruleName when there is no id).

import (
	"strconv"
	"strings"

	"github.com/alertgate/alertgate/alert"
)

// legacyGrafana holds the fields of Grafana's legacy alerting webhook that
// the unified format does not have.
type legacyGrafana struct {
	RuleID      int64             `json:"ruleId"`
	RuleName    string            `json:"ruleName"`
	RuleURL     string            `json:"ruleUrl"`
	ImageURL    string            `json:"imageUrl"`
	EvalMatches []evalMatch       `json:"evalMatches"`
	Tags        map[string]string `json:"tags"`
}

type evalMatch struct {
	Value  *float64          `json:"value"`
	Metric string            `json:"metric"`
	Tags   map[string]string `json:"tags"`
}

// Grafana decodes Grafana alerting webhook bodies, unified and legacy.
type Grafana struct {
	source
}

var _ Decoder = (*Grafana)(nil)

// Decode implements Decoder.
func (d *Grafana) Decode(_ Header, body []byte) (Batch, error) {
	var msg webhookMessage
	if n := listCap(body, "alerts"); n > 0 {
		msg.Alerts = make([]webhookAlert, 0, n)
	}
	if err := decodeJSON(body, &msg, webhookLists...); err != nil {
		return Batch{}, err
	}
	if msg.Alerts == nil && (msg.RuleName != "" || msg.RuleID != 0 || msg.EvalMatches != nil) {
		return d.decodeLegacy(&msg)
	}
	switch msg.Version {
	case "1", "4", "":
	default:
		return Batch{}, badf("version: unsupported %q (want \"1\")", msg.Version)
	}
	return decodeWebhook(&d.source, &msg)
}

// decodeLegacy converts a legacy (pre-unified) Grafana alert.
func (d *Grafana) decodeLegacy(msg *webhookMessage) (Batch, error) {
	ann := map[string]string{}
	var status alert.Status
	switch strings.ToLower(msg.State) {
	case "alerting":
		status = alert.StatusFiring
	case "no_data":
		status = alert.StatusFiring
		ann["grafana_state"] = "no_data"
	case "ok":
		status = alert.StatusResolved
	case "paused", "pending":
		return Batch{}, nil
	default:
		return Batch{}, badf("state: invalid %q (want alerting, ok, no_data, paused or pending)", msg.State)
	}
	name := firstOf(msg.RuleName, msg.Title)
	if name == "" {
		return Batch{}, badf("ruleName: missing")
	}
	labels := make(map[string]string, len(msg.Tags)+1)
	for k, v := range msg.Tags {
		labels[k] = v
	}
	labels["alertname"] = name
	setIf(ann, "image_url", msg.ImageURL)
	setIf(ann, "grafana_eval_matches", formatEvalMatches(msg.EvalMatches))
	if msg.OrgID != 0 {
		ann["grafana_org_id"] = strconv.FormatInt(msg.OrgID, 10)
	}
	id := map[string]string{"grafana_rule_name": name}
	if msg.RuleID != 0 {
		id = map[string]string{"grafana_rule_id": strconv.FormatInt(msg.RuleID, 10)}
	}
	a := alert.Alert{
		Status:       status,
		Fingerprint:  alert.FingerprintLabels(id),
		Annotations:  ann,
		Title:        firstOf(msg.Title, name),
		Description:  msg.Message,
		GeneratorURL: msg.RuleURL,
	}
	d.finish(&a, labels)
	return Batch{Alerts: []alert.Alert{a}}, nil
}

// formatEvalMatches renders legacy evalMatches as "Count=1, Errors=3".
func formatEvalMatches(ms []evalMatch) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		v := "null"
		if m.Value != nil {
			v = strconv.FormatFloat(*m.Value, 'g', -1, 64)
		}
		parts = append(parts, m.Metric+"="+v)
	}
	return strings.Join(parts, ", ")
}
