package adapters

// Gatus alerts (https://github.com/TwiN/gatus#configuring-custom-alerts;
// fixtures adapters/testdata/gatus-*.json). Gatus has no fixed body; its
// custom alerting provider sends a template. The recommended template:
//
//	{"state": "[ALERT_TRIGGERED_OR_RESOLVED]", "endpoint": "[ENDPOINT_GROUP]/[ENDPOINT_NAME]",
//	 "url": "[ENDPOINT_URL]", "errors": "[RESULT_ERRORS]", "description": "[ALERT_DESCRIPTION]",
//	 "conditions": "[RESULT_CONDITIONS]"}
//
// state TRIGGERED (or firing, down) fires, RESOLVED (or resolved, up)
// resolves, case-insensitively. Gatus's n8n provider body is accepted too:
//
//	{"title": "Gatus", "endpoint_name": "api", "endpoint_group": "core", "endpoint_url": "https://...",
//	 "alert_description": "...", "resolved": false, "message": "An alert for api has been triggered ...",
//	 "condition_results": [{"condition": "[STATUS] == 200", "success": false}]}
//
// and so is the README's example template, a single text field:
//
//	{"text": "[ALERT_TRIGGERED_OR_RESOLVED]: [ENDPOINT_GROUP] - [ENDPOINT_NAME] - [ALERT_DESCRIPTION] - [RESULT_ERRORS]"}
//
// The fingerprint follows the endpoint ("group/name", or "name" without a
// group).

import (
	"strings"

	"github.com/alertgate/alertgate/alert"
)

type gatusPayload struct {
	// Recommended custom template.
	State       string `json:"state"`
	Endpoint    string `json:"endpoint"`
	URL         string `json:"url"`
	Errors      string `json:"errors"`
	Description string `json:"description"`
	Conditions  string `json:"conditions"`

	// n8n provider.
	EndpointName     string                 `json:"endpoint_name"`
	EndpointGroup    string                 `json:"endpoint_group"`
	EndpointURL      string                 `json:"endpoint_url"`
	AlertDescription string                 `json:"alert_description"`
	Resolved         *bool                  `json:"resolved"`
	Message          string                 `json:"message"`
	ConditionResults []gatusConditionResult `json:"condition_results"`
}

type gatusConditionResult struct {
	Condition string `json:"condition"`
	Success   bool   `json:"success"`
}

func (d *Healthcheck) decodeGatus(body []byte) (Batch, error) {
	var p gatusPayload
	if err := decodeJSON(body, &p, "condition_results"); err != nil {
		return Batch{}, err
	}
	if p.EndpointName != "" || p.Resolved != nil {
		return d.gatusN8N(&p)
	}
	status, err := gatusState("state", p.State)
	if err != nil {
		return Batch{}, err
	}
	endpoint := strings.TrimPrefix(p.Endpoint, "/")
	if endpoint == "" {
		return Batch{}, badf("endpoint: missing")
	}
	ann := map[string]string{}
	setIf(ann, "errors", p.Errors)
	setIf(ann, "conditions", p.Conditions)
	r := probeResult{
		format:   formatGatus,
		check:    endpoint,
		id:       endpoint,
		status:   status,
		message:  firstOf(p.Description, p.Errors),
		instance: p.URL,
		url:      p.URL,
		ann:      ann,
	}
	return Batch{Alerts: []alert.Alert{d.probeAlert(&r)}}, nil
}

func (d *Healthcheck) gatusN8N(p *gatusPayload) (Batch, error) {
	if p.EndpointName == "" {
		return Batch{}, badf("endpoint_name: missing")
	}
	if p.Resolved == nil {
		return Batch{}, badf("resolved: missing")
	}
	endpoint := p.EndpointName
	if p.EndpointGroup != "" {
		endpoint = p.EndpointGroup + "/" + p.EndpointName
	}
	status := alert.StatusFiring
	if *p.Resolved {
		status = alert.StatusResolved
	}
	var failed []string
	for _, c := range p.ConditionResults {
		if !c.Success {
			failed = append(failed, c.Condition)
		}
	}
	ann := map[string]string{}
	setIf(ann, "failed_conditions", strings.Join(failed, ", "))
	setIf(ann, "gatus_message", p.Message)
	labels := map[string]string{}
	setIf(labels, "group", p.EndpointGroup)
	r := probeResult{
		format:   formatGatus,
		check:    endpoint,
		id:       endpoint,
		status:   status,
		message:  firstOf(p.AlertDescription, p.Message),
		instance: p.EndpointURL,
		url:      p.EndpointURL,
		labels:   labels,
		ann:      ann,
	}
	return Batch{Alerts: []alert.Alert{d.probeAlert(&r)}}, nil
}

// decodeGatusText parses the README template's rendered text,
// "TRIGGERED: group - name - description - errors".
func (d *Healthcheck) decodeGatusText(text string) (Batch, error) {
	state, rest, ok := strings.Cut(text, ":")
	if !ok {
		return Batch{}, badf(`text: want "<STATE>: <group> - <name> - <description> - <errors>"`)
	}
	status, err := gatusState("text", strings.TrimSpace(state))
	if err != nil {
		return Batch{}, err
	}
	parts := strings.SplitN(rest, " - ", 3)
	if len(parts) < 2 || strings.TrimSpace(parts[1]) == "" {
		return Batch{}, badf(`text: no endpoint name (want "<STATE>: <group> - <name> - <description> - <errors>")`)
	}
	group, name := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	endpoint := name
	if group != "" {
		endpoint = group + "/" + name
	}
	var desc, errs string
	if len(parts) == 3 {
		desc = parts[2]
		if i := strings.LastIndex(desc, " - "); i >= 0 {
			desc, errs = desc[:i], desc[i+3:]
		}
	}
	ann := map[string]string{}
	setIf(ann, "errors", strings.TrimSpace(errs))
	r := probeResult{
		format:  formatGatus,
		check:   endpoint,
		id:      endpoint,
		status:  status,
		message: firstOf(strings.TrimSpace(desc), strings.TrimSpace(errs)),
		ann:     ann,
	}
	return Batch{Alerts: []alert.Alert{d.probeAlert(&r)}}, nil
}

// gatusState maps [ALERT_TRIGGERED_OR_RESOLVED] to a status.
func gatusState(path, s string) (alert.Status, error) {
	switch strings.ToLower(s) {
	case "triggered", "firing", "down":
		return alert.StatusFiring, nil
	case "resolved", "up":
		return alert.StatusResolved, nil
	}
	if strings.Contains(s, "[ALERT_TRIGGERED_OR_RESOLVED]") {
		return "", badf("%s: unsubstituted Gatus placeholder %q", path, s)
	}
	return "", badf("%s: invalid state %q (want TRIGGERED or RESOLVED)", path, s)
}
