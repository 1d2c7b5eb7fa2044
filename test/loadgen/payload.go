package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// webhookMessage mirrors the body of Alertmanager's webhook receiver,
// version 4 (notify/webhook.Message embedding template.Data), field for
// field and in the same order, so that encoding/json writes it exactly as
// Alertmanager does: compact, HTML-escaped, with a trailing newline.
type webhookMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []webhookAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
}

// webhookAlert is one alert of a webhookMessage (template.Alert).
type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// encodeWebhook writes m as Alertmanager's encoder does.
func encodeWebhook(m *webhookMessage) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(m); err != nil {
		return nil, fmt.Errorf("encode webhook: %w", err)
	}
	return buf.Bytes(), nil
}

// Alert identity. Group g (of numGroups) is alertname alertNames[g%20] on
// service services[g%50]: since the 20×50 pairs with equal residues mod 10
// are exactly 100, g ↦ pair is a bijection on 0..99. Alert id is in group
// id%numGroups and has instance node-<id, 10 digits> and a fingerprint
// derived from id, so ids are distinct alerts.
const (
	numGroups      = 100
	instanceDigits = 10
	fpDigits       = 16
	// Placeholders patched per request; characters encoding/json keeps as is.
	instancePlaceholder = "##########"
	fpPlaceholder       = "%%%%%%%%%%%%%%%%"
	serviceDigits       = 12
	servicePlaceholder  = "@@@@@@@@@@@@"
)

var alertNames = [20]string{
	"HighErrorRate", "HighLatencyP99", "InstanceDown", "DiskWillFillIn4Hours", "HighMemoryUsage",
	"CPUThrottlingHigh", "PodCrashLooping", "TargetDown", "CertificateExpiringSoon", "QueueBacklogGrowing",
	"ReplicationLagHigh", "ConnectionPoolExhausted", "KafkaConsumerLag", "HTTP5xxSpike", "NodeNotReady",
	"PersistentVolumeFull", "JobFailed", "SLOBurnRateFast", "DNSResolutionFailing", "ProbeFailed",
}

var services = func() [50]string {
	base := [10]string{"checkout", "payments", "frontend", "search", "catalog", "auth", "orders", "cart", "shipping", "ledger"}
	var s [50]string
	for i := range s {
		s[i] = fmt.Sprintf("%s-%d", base[i%10], i/10)
	}
	return s
}()

// template is one group's encoded body with the byte offsets of the
// placeholders patched per request.
type template struct {
	body []byte
	// instances and fps are the instance and fingerprint placeholders;
	// alert j's come j-th (a one-alert webhook has two instance
	// placeholders: the common labels hold it too). services are the
	// service placeholders of a template for a new group per request
	// (every occurrence of the service name).
	instances, fps, services []int
	n                        int // alerts per body
}

// tmplOpts choose a template's shape.
type tmplOpts struct {
	n int // alerts per request
	// newGroup puts a service placeholder in place of the group's
	// service, so that every request opens a group of its own.
	newGroup bool
	// api encodes the body for Alertmanager's POST /api/v2/alerts (a JSON
	// array of postable alerts) instead of as its webhook.
	api bool
}

// newTemplate encodes the body of o.n alerts of group g.
func newTemplate(g int, o tmplOpts, startsAt time.Time) (template, error) {
	n := o.n
	name, svc := alertNames[g%len(alertNames)], services[g%len(services)]
	if o.newGroup {
		svc = "svc-" + servicePlaceholder
	}
	sev := "warning"
	if g%4 == 0 {
		sev = "critical"
	}
	common := map[string]string{
		"alertname": name,
		"service":   svc,
		"severity":  sev,
		"job":       "node",
		"env":       "prod",
		"cluster":   "eu-west-1a",
	}
	ann := map[string]string{
		"summary":     fmt.Sprintf("%s on %s", name, svc),
		"description": fmt.Sprintf("%s has fired for %s for more than 5 minutes (threshold 5%%).", name, svc),
		"runbook_url": "https://runbooks.example.com/" + name,
	}
	alerts := make([]webhookAlert, n)
	for j := range alerts {
		labels := maps.Clone(common)
		labels["instance"] = "node-" + instancePlaceholder + ":9100"
		alerts[j] = webhookAlert{
			Status:       "firing",
			Labels:       labels,
			Annotations:  ann,
			StartsAt:     startsAt,
			EndsAt:       time.Time{},
			GeneratorURL: "http://prometheus:9090/graph?g0.expr=" + name + "%7Bservice%3D%22" + svc + "%22%7D+%3E+0.05&g0.tab=1",
			Fingerprint:  fpPlaceholder,
		}
	}
	var body []byte
	var err error
	wantInstances, wantFPs := n, n
	if o.api {
		body, err = encodePostable(alerts)
		wantFPs = 0
	} else {
		if n == 1 {
			common = alerts[0].Labels
			wantInstances = 2
		}
		body, err = encodeWebhook(&webhookMessage{
			Receiver:          "alertgate",
			Status:            "firing",
			Alerts:            alerts,
			GroupLabels:       map[string]string{"alertname": name, "service": svc},
			CommonLabels:      common,
			CommonAnnotations: ann,
			ExternalURL:       "http://alertmanager:9093",
			Version:           "4",
			GroupKey:          fmt.Sprintf("{}:{alertname=%q, service=%q}", name, svc),
		})
	}
	if err != nil {
		return template{}, err
	}
	t := template{body: body, n: n, instances: offsets(body, instancePlaceholder), fps: offsets(body, fpPlaceholder),
		services: offsets(body, servicePlaceholder)}
	if len(t.instances) != wantInstances || len(t.fps) != wantFPs || (o.newGroup && len(t.services) == 0) {
		return template{}, fmt.Errorf("template %d: placeholders found %d, %d and %d times", g, len(t.instances), len(t.fps), len(t.services))
	}
	return t, nil
}

// postableAlert is an alert of Alertmanager's POST /api/v2/alerts body.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// encodePostable writes alerts as a POST /api/v2/alerts body.
func encodePostable(alerts []webhookAlert) ([]byte, error) {
	out := make([]postableAlert, len(alerts))
	for i, a := range alerts {
		out[i] = postableAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt, GeneratorURL: a.GeneratorURL}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode postable alerts: %w", err)
	}
	return b, nil
}

// offsets returns every offset of sub in b.
func offsets(b []byte, sub string) []int {
	var out []int
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(sub))
		if j < 0 {
			return out
		}
		out = append(out, i+j)
		i += j + len(sub)
	}
}

// fill writes alerts first, first+1, … into t.body in place, and first
// as the service of a new-group template (ids of requests never overlap,
// so neither do their groups).
func (t *template) fill(first uint64) {
	for i, off := range t.instances {
		putDecimal(t.body[off:off+instanceDigits], first+uint64(i*t.n/len(t.instances)))
	}
	for j, off := range t.fps {
		putHex(t.body[off:off+fpDigits], fingerprint(first+uint64(j)))
	}
	for _, off := range t.services {
		putDecimal(t.body[off:off+serviceDigits], first)
	}
}

// putDecimal writes v zero-padded into dst, keeping the low digits.
func putDecimal(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// putHex writes v as lower-case hex into dst (16 bytes).
func putHex(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}

// fingerprint is a bijective mix (splitmix64's finalizer) of id, so
// distinct ids give distinct 16-digit fingerprints that look random.
func fingerprint(id uint64) uint64 {
	z := id + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// A generator makes request bodies. forWorker returns the body function of
// one worker: bodies it returns stay valid until that worker's next call,
// so workers need no locking.
type generator interface {
	forWorker() func(id uint64) []byte
	// alertsPerRequest is how many alerts each body carries.
	alertsPerRequest() int
}

// bodyBytes returns the size of alert 0's body, for the report.
func bodyBytes(g generator) int { return len(g.forWorker()(0)) }

// storm makes every request new alerts of group id%numGroups, n per
// request (alerts id*n … id*n+n-1), patching a per-worker copy of the
// group's template: a few dozen byte writes per alert. With newGroup,
// every request is also a group of its own (service svc-<id*n>).
type storm struct {
	n         int
	templates []template
}

// newStorm is the one-alert-per-request storm.
func newStorm(startsAt time.Time) (*storm, error) { return newGroupedStorm(1, startsAt) }

// newGroupedStorm builds the numGroups n-alert templates.
func newGroupedStorm(n int, startsAt time.Time) (*storm, error) {
	return newStormOf(tmplOpts{n: n}, startsAt)
}

// newStormOf builds the numGroups templates of shape o.
func newStormOf(o tmplOpts, startsAt time.Time) (*storm, error) {
	s := &storm{n: o.n, templates: make([]template, numGroups)}
	for g := range s.templates {
		t, err := newTemplate(g, o, startsAt)
		if err != nil {
			return nil, err
		}
		s.templates[g] = t
	}
	return s, nil
}

func (s *storm) alertsPerRequest() int { return s.n }

func (s *storm) forWorker() func(uint64) []byte {
	own := make([]template, len(s.templates))
	for i, t := range s.templates {
		own[i] = t
		own[i].body = bytes.Clone(t.body)
	}
	return func(id uint64) []byte {
		t := &own[id%uint64(len(own))]
		t.fill(id * uint64(s.n))
		return t.body
	}
}

// pool cycles through a fixed set of pre-built bodies: body id%len.
type pool struct{ bodies [][]byte }

// newPool pre-builds the bodies of alerts 0..n-1 of s.
func newPool(s *storm, n int) *pool {
	next := s.forWorker()
	p := &pool{bodies: make([][]byte, n)}
	for i := range p.bodies {
		p.bodies[i] = bytes.Clone(next(uint64(i)))
	}
	return p
}

func (*pool) alertsPerRequest() int { return 1 }

func (p *pool) forWorker() func(uint64) []byte {
	return func(id uint64) []byte { return p.bodies[id%uint64(len(p.bodies))] }
}
