package adapters

// Healthchecks.io webhook integration (its placeholders are listed on the
// integration's setup page, https://healthchecks.io/docs/configuring_notifications/;
// fixtures adapters/testdata/healthchecks-*.json). Its body
// is whatever the operator configures; the one to use (the docs' suggestion
// plus $STATUS), for both the "down" and the "up" event:
//
//	{"now": "$NOW", "status": "$STATUS", "check": $JSON}
//
// which arrives as
//
//	{"now": "2024-01-01T12:00:00+00:00", "status": "down",
//	 "check": {"name": "nightly-backup", "slug": "nightly-backup", "tags": "prod db",
//	           "desc": "pg_dump to S3", "status": "down", "uuid": "5c8a...", "ping_url": "https://hc-ping.com/5c8a...",
//	           "last_ping": "2024-01-01T11:00:00+00:00", "grace": 3600, "timeout": 86400, ...}}
//
// status down fires, up resolves; without "status" the check's own status
// is used, where new, grace and paused give no alert. Labels: check=name
// (or slug), tags=<the space-separated tags>. The fingerprint follows the
// check's uuid (unique_key with read-only API keys, else slug, else name).
// ping_url is not copied: it lets anyone ping the check.

import (
	"strings"

	"github.com/alertgate/alertgate/alert"
)

type hcPayload struct {
	Now    string   `json:"now"`
	Status string   `json:"status"`
	Check  *hcCheck `json:"check"`
}

type hcCheck struct {
	Name      string `json:"name"`
	Slug      string `json:"slug"`
	Tags      string `json:"tags"`
	Desc      string `json:"desc"`
	Status    string `json:"status"`
	UUID      string `json:"uuid"`
	UniqueKey string `json:"unique_key"`
	LastPing  string `json:"last_ping"`
}

func (d *Healthcheck) decodeHealthchecksIO(body []byte) (Batch, error) {
	var p hcPayload
	if err := decodeJSON(body, &p); err != nil {
		return Batch{}, err
	}
	c := p.Check
	if c == nil {
		return Batch{}, badf("check: missing")
	}
	path, state := "status", p.Status
	if state == "" {
		path, state = "check.status", c.Status
	}
	var status alert.Status
	switch strings.ToLower(state) {
	case "down":
		status = alert.StatusFiring
	case "up":
		status = alert.StatusResolved
	case "new", "grace", "paused":
		if path == "check.status" {
			return Batch{}, nil
		}
		fallthrough
	default:
		return Batch{}, badf("%s: invalid %q (want down or up)", path, state)
	}
	name := firstOf(c.Name, c.Slug)
	id := firstOf(c.UUID, c.UniqueKey, c.Slug, c.Name)
	if name == "" {
		name = id
	}
	if name == "" {
		return Batch{}, badf("check: no name, slug, uuid or unique_key")
	}
	t, err := parseTime("now", p.Now)
	if err != nil {
		return Batch{}, err
	}
	labels := map[string]string{}
	setIf(labels, "tags", strings.TrimSpace(c.Tags))
	ann := map[string]string{}
	setIf(ann, "last_ping", c.LastPing)
	r := probeResult{
		format:  formatHealthcheck,
		check:   name,
		id:      id,
		status:  status,
		at:      t,
		message: c.Desc,
		labels:  labels,
		ann:     ann,
	}
	return Batch{Alerts: []alert.Alert{d.probeAlert(&r)}}, nil
}
