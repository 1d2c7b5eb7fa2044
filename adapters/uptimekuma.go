package adapters

// Uptime Kuma webhook notification (its sender,
// https://github.com/louislam/uptime-kuma/blob/master/server/notification-providers/webhook.js;
// fixtures adapters/testdata/uptime-kuma-*.json), JSON mode
// or form-data mode (the same JSON in the multipart field "data"):
//
//	{
//	  "heartbeat": {"monitorID": 89, "status": 0, "time": "2023-07-31 18:56:15.374",
//	                "msg": "timeout of 16000ms exceeded", "important": true, "duration": 36,
//	                "timezone": "Europe/Berlin", "timezoneOffset": "+02:00", "localDateTime": "2023-07-31 20:56:15"},
//	  "monitor":   {"id": 89, "name": "test", "type": "http", "url": "https://example.com",
//	                "hostname": null, "port": null, "tags": [{"name": "env", "value": "prod"}], ...},
//	  "msg": "[test] [🔴 Down] timeout of 16000ms exceeded"
//	}
//
// heartbeat.status 0 (DOWN) fires, 1 (UP) resolves; 2 (PENDING) and
// 3 (MAINTENANCE) give no alert, nor does the test button (heartbeat and
// monitor null). heartbeat.time is UTC without a zone designator. Labels:
// check=monitor.name, type=monitor.type, instance=monitor.hostname[:port]
// or monitor.url, and each tag as <name>=<value> (value "true" when empty).
// The fingerprint follows monitor.id.

import (
	"strconv"
	"strings"

	"github.com/alertgate/alertgate/alert"
)

// Uptime Kuma heartbeat states (src/util.ts).
const (
	kumaDown        = 0
	kumaUp          = 1
	kumaPending     = 2
	kumaMaintenance = 3
)

type kumaPayload struct {
	Heartbeat *kumaHeartbeat `json:"heartbeat"`
	Monitor   *kumaMonitor   `json:"monitor"`
	Msg       string         `json:"msg"`
}

type kumaHeartbeat struct {
	MonitorID int64  `json:"monitorID"`
	Status    *int   `json:"status"`
	Time      string `json:"time"`
	Msg       string `json:"msg"`
}

type kumaMonitor struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Type        string    `json:"type"`
	URL         string    `json:"url"`
	Hostname    string    `json:"hostname"`
	Port        *int64    `json:"port"`
	Tags        []kumaTag `json:"tags"`
}

type kumaTag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (d *Healthcheck) decodeUptimeKuma(body []byte) (Batch, error) {
	var p kumaPayload
	if err := decodeJSON(body, &p, "monitor.tags"); err != nil {
		return Batch{}, err
	}
	if p.Heartbeat == nil && p.Monitor == nil {
		return Batch{}, nil // the notification's test button
	}
	if p.Heartbeat == nil {
		return Batch{}, badf("heartbeat: missing")
	}
	if p.Monitor == nil {
		return Batch{}, badf("monitor: missing")
	}
	if p.Heartbeat.Status == nil {
		return Batch{}, badf("heartbeat.status: missing")
	}
	var status alert.Status
	switch *p.Heartbeat.Status {
	case kumaDown:
		status = alert.StatusFiring
	case kumaUp:
		status = alert.StatusResolved
	case kumaPending, kumaMaintenance:
		return Batch{}, nil
	default:
		return Batch{}, badf("heartbeat.status: invalid %d (want 0 down, 1 up, 2 pending or 3 maintenance)", *p.Heartbeat.Status)
	}
	t, err := parseTime("heartbeat.time", p.Heartbeat.Time)
	if err != nil {
		return Batch{}, err
	}
	m := p.Monitor
	id := m.ID
	if id == 0 {
		id = p.Heartbeat.MonitorID
	}
	name := firstOf(m.Name, "monitor "+strconv.FormatInt(id, 10))
	labels := kumaTagLabels(m.Tags)
	setIf(labels, "type", m.Type)
	ann := map[string]string{}
	setIf(ann, "uptime_kuma_msg", p.Msg)
	setIf(ann, "monitor_description", m.Description)
	r := probeResult{
		format:   formatUptimeKuma,
		check:    name,
		id:       strconv.FormatInt(id, 10),
		status:   status,
		at:       t,
		message:  p.Heartbeat.Msg,
		instance: kumaInstance(m),
		url:      kumaURL(m.URL),
		labels:   labels,
		ann:      ann,
	}
	return Batch{Alerts: []alert.Alert{d.probeAlert(&r)}}, nil
}

// kumaInstance is host[:port] for host-based monitors, else the URL.
func kumaInstance(m *kumaMonitor) string {
	if m.Hostname != "" {
		if m.Port != nil && *m.Port != 0 {
			return m.Hostname + ":" + strconv.FormatInt(*m.Port, 10)
		}
		return m.Hostname
	}
	return kumaURL(m.URL)
}

// kumaURL drops the placeholder URL Uptime Kuma keeps for monitors that
// have none.
func kumaURL(u string) string {
	if u == "https://" || u == "http://" {
		return ""
	}
	return u
}

// kumaTagLabels turns monitor tags into labels: the name, lower-cased with
// anything but letters, digits and '_' replaced by '_', becomes the label
// name; an empty value becomes "true". Tags without a usable name are
// skipped.
func kumaTagLabels(tags []kumaTag) map[string]string {
	labels := make(map[string]string, len(tags)+4)
	for _, t := range tags {
		name := labelName(t.Name)
		if name == "" {
			continue
		}
		labels[name] = firstOf(t.Value, "true")
	}
	return labels
}

// labelName makes s a valid Prometheus label name, or "" when nothing is
// left of it.
func labelName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}
