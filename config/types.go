package config

import (
	"sort"

	promconfig "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"

	"github.com/alertgate/alertgate/alert"
)

// Config is the whole alertgate configuration file.
type Config struct {
	Server        Server          `yaml:"server"`
	Log           Log             `yaml:"log"`
	Storage       Storage         `yaml:"storage"`
	Sources       []Source        `yaml:"sources"`
	Severities    Severities      `yaml:"severities"`
	Rules         []Rule          `yaml:"rules"`
	Dedup         Dedup           `yaml:"dedup"`
	Silences      []Silence       `yaml:"silences,omitempty"`
	Maintenance   []Maintenance   `yaml:"maintenance,omitempty"`
	Inhibit       []InhibitRule   `yaml:"inhibit,omitempty"`
	Roles         map[string]Role `yaml:"roles"`
	Escalation    Escalation      `yaml:"escalation"`
	Targets       []Target        `yaml:"targets"`
	Communication Communication   `yaml:"communication"`
	Runbooks      []Runbook       `yaml:"runbooks"`
	// Console configures sign-in to the web console (see console.go).
	Console Console `yaml:"console,omitempty"`
	// Templates are files of Go template definitions ({{define "name"}})
	// that targets' title, text and html may use, as Alertmanager's
	// templates: globs; relative paths start at the config file's
	// directory. They are read after the built-in default.tmpl, so a file
	// may redefine a default template.
	Templates []string `yaml:"templates,omitempty"`
	// DefaultRules false leaves the default rules out: Rules are then all
	// the rules. Unset or true, Load appends the default rules after the
	// file's (see mergeDefaults).
	DefaultRules *bool `yaml:"default_rules,omitempty"`
}

// Server configures the HTTP listener and API.
type Server struct {
	// Listen is the address to serve on (default "127.0.0.1:8080"). A
	// non-loopback address needs api_token and every source's auth, or
	// AllowUnauthenticated (see Config.Exposure).
	Listen string `yaml:"listen"`
	// AllowUnauthenticated lets the gateway serve a non-loopback address
	// while the write API or a source takes requests without credentials
	// (a warning is logged at every start).
	AllowUnauthenticated bool `yaml:"allow_unauthenticated,omitempty"`
	// PublicReads leaves the read endpoints open while api_token guards
	// the writes; by default the token guards reads too.
	PublicReads bool `yaml:"public_reads,omitempty"`
	// MaxSilenceDuration caps how long a silence created through the API
	// may last (default 30d).
	MaxSilenceDuration Duration `yaml:"max_silence_duration"`
	// ExternalURL is how responders reach this gateway (ack links in pages).
	ExternalURL string `yaml:"external_url"`
	// APIToken, when set, guards the API (Bearer token): the write
	// endpoints, and the reads unless PublicReads.
	APIToken     Secret `yaml:"api_token,omitempty"`
	APITokenFile string `yaml:"api_token_file,omitempty"`
	// MaxBodyBytes limits every request body; larger bodies get 413.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// MaxDecodingBytes caps the total size of the ingest bodies being
	// decoded and stored at once; a body that would pass it gets 503 with
	// Retry-After. A body costs up to ~25 times its size in memory while
	// it is decoded and stored. At least max_body_bytes; unset (0),
	// max_body_bytes plus a quarter: one body of the largest size at a
	// time, with room for small ones alongside.
	MaxDecodingBytes int `yaml:"max_decoding_bytes"`
	// AlertLimits bound what one ingested alert may carry.
	AlertLimits  AlertLimits `yaml:"alert_limits"`
	ReadTimeout  Duration    `yaml:"read_timeout"`
	WriteTimeout Duration    `yaml:"write_timeout"`
	IdleTimeout  Duration    `yaml:"idle_timeout"`
	// Pprof serves Go's profiler on /debug/pprof (off by default).
	Pprof bool `yaml:"pprof,omitempty"`
	// AckLinkSecret signs the one-click acknowledge and resolve links in
	// pages (HMAC-SHA256; at least 32 characters). Unset, a random secret
	// kept in the database is used. Changing it invalidates sent links.
	AckLinkSecret     Secret `yaml:"ack_link_secret,omitempty"`
	AckLinkSecretFile string `yaml:"ack_link_secret_file,omitempty"`
	// AckLinkTTL is how long a one-click link stays valid (default 24h).
	AckLinkTTL Duration `yaml:"ack_link_ttl"`
}

// AlertLimits bound one ingested alert. Over a name or count limit the
// request is refused (400 naming the field); a value over its limit is cut
// to it, ending with "…", and the alert is stored.
type AlertLimits struct {
	MaxLabels          int `yaml:"max_labels"`            // labels per alert, source labels included
	MaxLabelNameBytes  int `yaml:"max_label_name_bytes"`  // label and annotation names
	MaxLabelValueBytes int `yaml:"max_label_value_bytes"` // label values
	MaxAnnotationBytes int `yaml:"max_annotation_bytes"`  // annotation values, title, description
}

// Log configures the zap logger.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or console
}

// Storage chooses the database.
type Storage struct {
	Driver string `yaml:"driver"` // sqlite or postgres
	// Path is the SQLite database file.
	Path string `yaml:"path,omitempty"`
	// DSN is the PostgreSQL connection string.
	DSN     Secret `yaml:"dsn,omitempty"`
	DSNFile string `yaml:"dsn_file,omitempty"`
	// Pool and timeouts of the PostgreSQL connection (driver postgres
	// only; zero means the default).
	MaxOpenConns int `yaml:"max_open_conns,omitempty"` // default 16
	MaxIdleConns int `yaml:"max_idle_conns,omitempty"` // default 8
	// ConnMaxLifetime recycles connections (e.g. behind PgBouncer or a
	// failover proxy); default 30m.
	ConnMaxLifetime Duration `yaml:"conn_max_lifetime,omitempty"`
	// StatementTimeout bounds every statement on the server; default 30s.
	StatementTimeout Duration `yaml:"statement_timeout,omitempty"`
	// ConnectTimeout bounds each connection attempt; default 10s.
	ConnectTimeout Duration `yaml:"connect_timeout,omitempty"`
}

// Source is one inbound webhook endpoint: POST /api/v1/alerts/{name}.
type Source struct {
	Name string `yaml:"name"`
	// Type selects the adapter: alertmanager, grafana, healthcheck, generic.
	Type string `yaml:"type"`
	Auth Auth   `yaml:"auth,omitempty"`
	// Labels are added to every alert from this source (alert labels win).
	Labels map[string]string `yaml:"labels,omitempty"`
	// Mapping is required for type generic and not allowed otherwise.
	Mapping *Mapping `yaml:"mapping,omitempty"`
}

// Auth is a source's authentication. With nothing set the source is open.
// Bearer and basic may be combined (either is accepted); HMAC is checked in
// addition to them when set.
type Auth struct {
	BearerToken     Secret     `yaml:"bearer_token,omitempty"`
	BearerTokenFile string     `yaml:"bearer_token_file,omitempty"`
	Basic           *BasicAuth `yaml:"basic,omitempty"`
	HMAC            *HMACAuth  `yaml:"hmac,omitempty"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username     string `yaml:"username"`
	Password     Secret `yaml:"password,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
}

// HMACAuth verifies an HMAC-SHA256 signature of the raw body.
type HMACAuth struct {
	Secret     Secret `yaml:"secret,omitempty"`
	SecretFile string `yaml:"secret_file,omitempty"`
	// Header carries the hex signature, optionally prefixed "sha256=".
	// Default X-Signature-256.
	Header string `yaml:"header"`
	// TimestampHeader, when set, names a header with Unix seconds that is
	// signed too ("<timestamp>:<body>") and must be within MaxSkew.
	TimestampHeader string   `yaml:"timestamp_header,omitempty"`
	MaxSkew         Duration `yaml:"max_skew,omitempty"`
}

// Mapping maps any JSON payload to alerts with GJSON paths
// (https://github.com/tidwall/gjson/blob/master/SYNTAX.md).
type Mapping struct {
	// Alerts, when set, is the path of an array; each element is one alert
	// and the other paths are relative to it. Otherwise the body is one alert.
	Alerts      string `yaml:"alerts,omitempty"`
	Title       string `yaml:"title"`
	Description string `yaml:"description,omitempty"`
	// Status is the path of the status field; its value is compared with
	// FiringValues and ResolvedValues (case-insensitive). Without Status
	// every alert is firing.
	Status         string   `yaml:"status,omitempty"`
	FiringValues   []string `yaml:"firing_values,omitempty"`
	ResolvedValues []string `yaml:"resolved_values,omitempty"`
	// Fingerprint is the path of a stable identity; without it the
	// fingerprint is a hash of the labels (or of the title when none).
	Fingerprint string `yaml:"fingerprint,omitempty"`
	// Labels maps a label name to a path. LabelsFrom is the path of an
	// object whose string members all become labels.
	Labels      map[string]string `yaml:"labels,omitempty"`
	LabelsFrom  string            `yaml:"labels_from,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	Severity    string            `yaml:"severity,omitempty"`
	Service     string            `yaml:"service,omitempty"`
	StartsAt    string            `yaml:"starts_at,omitempty"`
	URL         string            `yaml:"url,omitempty"`
}

// Severities holds the four levels of the response procedures.
type Severities struct {
	P0 SeverityLevel `yaml:"P0"`
	P1 SeverityLevel `yaml:"P1"`
	P2 SeverityLevel `yaml:"P2"`
	P3 SeverityLevel `yaml:"P3"`
}

// Level returns the settings of one severity.
func (s *Severities) Level(sev alert.Severity) *SeverityLevel {
	switch sev {
	case alert.P0:
		return &s.P0
	case alert.P1:
		return &s.P1
	case alert.P2:
		return &s.P2
	default:
		return &s.P3
	}
}

// SeverityLevel is one row of the severity table.
type SeverityLevel struct {
	Name string `yaml:"name"` // Critical, High, Medium, Low
	// Response is the time to acknowledge; Resolution the time to resolve.
	Response   Duration `yaml:"response"`
	Resolution Duration `yaml:"resolution"`
	// Updates is the status update cadence while the incident is open.
	Updates Duration `yaml:"updates"`
	// Examples lists what belongs at this level (documentation only).
	Examples []string `yaml:"examples,omitempty"`
}

// Rule classifies alerts. Rules are tried in order; the first match wins
// unless it sets Continue, in which case later rules may add to it.
type Rule struct {
	Name string `yaml:"name"`
	// Match lists Alertmanager label matchers (`service=~"pay.*"`), all of
	// which must hold. They see the alert's labels plus the fields source,
	// source_type, title, description and service (labels win on a clash),
	// and "category": the category earlier rules decided, else the label.
	// An empty list matches every alert.
	Match []string `yaml:"match,omitempty"`
	// Keywords, when given, must also hold: one of them occurs as a word
	// (case-insensitive, CamelCase and snake_case split, a plural "s"
	// allowed; "error rate" matches consecutive words) in the alertname
	// label, the title or the service.
	Keywords []string `yaml:"keywords,omitempty"`
	// When is an optional expression (expr-lang) that must also hold, for
	// what matchers can't say: text search, numeric thresholds.
	When     string            `yaml:"when,omitempty"`
	Severity string            `yaml:"severity,omitempty"`
	Category string            `yaml:"category,omitempty"`
	Runbook  string            `yaml:"runbook,omitempty"`
	Labels   map[string]string `yaml:"labels,omitempty"`
	GroupBy  []string          `yaml:"group_by,omitempty"`
	Continue bool              `yaml:"continue,omitempty"`
}

// Dedup configures grouping of alerts into incidents.
type Dedup struct {
	// GroupBy lists the labels whose values form the group key. The name
	// "service" means the alert's service (service, service_name, app or
	// job label).
	GroupBy []string `yaml:"group_by"`
	// ReopenWithin reopens a resolved incident when its group fires again
	// within this window, instead of opening a new one.
	ReopenWithin Duration `yaml:"reopen_within"`
	// Flapping is the hysteresis for incidents that keep reopening.
	Flapping Flapping `yaml:"flapping"`
}

// Flapping marks an incident flapping when it reopens Reopens times within
// Window. The reopen that marks it tells the channel and pages the
// flapping role once; later reopens only tell the channel, until the
// incident has stayed resolved for Window.
type Flapping struct {
	// Reopens within Window that make an incident flapping; 0 turns the
	// hysteresis off (every reopen escalates afresh).
	Reopens int      `yaml:"reopens"`
	Window  Duration `yaml:"window"`
	// Role is paged once, per its matrix cell, when an incident starts
	// flapping; default the first row of escalation.matrix (oncall).
	Role string `yaml:"role,omitempty"`
}

// Silence suppresses the pages of matching alerts between StartsAt and
// EndsAt. Silenced alerts are still recorded.
type Silence struct {
	// ID is optional in config; silences made by the API get one.
	ID       string   `yaml:"id,omitempty"`
	Matchers []string `yaml:"matchers"`
	StartsAt string   `yaml:"starts_at,omitempty"` // RFC 3339; default: now
	EndsAt   string   `yaml:"ends_at"`             // RFC 3339
	// ExpireOnResolve ends the silence when the alerts it silenced resolve.
	ExpireOnResolve bool   `yaml:"expire_on_resolve,omitempty"`
	CreatedBy       string `yaml:"created_by"`
	Comment         string `yaml:"comment"`
}

// Maintenance is a recurring window during which matching alerts do not
// page, e.g. every Sunday 02:00–04:00 Europe/Berlin.
type Maintenance struct {
	Name     string   `yaml:"name"`
	Matchers []string `yaml:"matchers"`
	// Weekdays lists the days the window starts on (monday…sunday); empty
	// means every day.
	Weekdays []string `yaml:"weekdays,omitempty"`
	Start    string   `yaml:"start"` // "22:00"
	End      string   `yaml:"end"`   // "02:00" (next day when before start)
	TimeZone string   `yaml:"time_zone"`
}

// InhibitRule mutes the pages of alerts matching TargetMatchers while an
// open incident's alert matches SourceMatchers with equal values of the
// Equal labels (Alertmanager's inhibit_rules; unlike Alertmanager, an
// Equal label empty or missing on either side is never equal). Matchers
// also see the decided severity as "priority" (P0…P3).
type InhibitRule struct {
	Name           string   `yaml:"name,omitempty"`
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal,omitempty"`
}

// Role maps an escalation role to the targets that page it.
type Role struct {
	// Targets page the role; with a rotation they are the fallback when
	// the rotation names nobody.
	Targets []string `yaml:"targets"`
	// Rotation, when set, pages whoever is on call when a page is sent.
	Rotation *Rotation `yaml:"rotation,omitempty"`
}

// Rotation hands a role from member to member every Shift, at Handoff
// local time, starting with the first member on Start.
type Rotation struct {
	TimeZone string   `yaml:"time_zone"` // IANA name; default UTC
	Handoff  string   `yaml:"handoff"`   // "09:00"
	Shift    Duration `yaml:"shift"`     // 1d, 1w, 12h …
	Start    string   `yaml:"start"`     // "2026-11-30": the first shift's date
	Members  []Member `yaml:"members"`
}

// Member is a person in a rotation and the targets that page them.
type Member struct {
	Name    string   `yaml:"name"`
	Targets []string `yaml:"targets"`
}

// Escalation is the escalation matrix.
type Escalation struct {
	Matrix  []EscalationRow `yaml:"matrix"`
	Digests Digests         `yaml:"digests"`
}

// RoleNames returns the roles in escalation order: the matrix's rows (the
// on-call first, the CTO last), then roles outside the matrix by name.
func (c *Config) RoleNames() []string {
	roles := make([]string, 0, len(c.Roles))
	for name := range c.Roles {
		roles = append(roles, name)
	}
	rank := func(role string) int {
		for i := range c.Escalation.Matrix {
			if c.Escalation.Matrix[i].Role == role {
				return i
			}
		}
		return len(c.Escalation.Matrix)
	}
	sort.Slice(roles, func(i, j int) bool {
		ri, rj := rank(roles[i]), rank(roles[j])
		if ri != rj {
			return ri < rj
		}
		return roles[i] < roles[j]
	})
	return roles
}

// Row returns the matrix row of role, or nil.
func (e *Escalation) Row(role string) *EscalationRow {
	for i := range e.Matrix {
		if e.Matrix[i].Role == role {
			return &e.Matrix[i]
		}
	}
	return nil
}

// FlappingRow returns the matrix row whose role gets the page of an
// incident that starts flapping (dedup.flapping.role, else the first
// row), or nil.
func (c *Config) FlappingRow() *EscalationRow {
	if r := c.Dedup.Flapping.Role; r != "" {
		return c.Escalation.Row(r)
	}
	if len(c.Escalation.Matrix) == 0 {
		return nil
	}
	return &c.Escalation.Matrix[0]
}

// EscalationRow is one role's row of the matrix.
type EscalationRow struct {
	Role string `yaml:"role"`
	// StopOn is "acknowledged" or "resolved": the step is not sent once the
	// incident has reached that state.
	StopOn string `yaml:"stop_on"`
	// Repeat re-sends this role's page until the stop condition holds.
	Repeat *Repeat `yaml:"repeat,omitempty"`
	P0     Cell    `yaml:"P0"`
	P1     Cell    `yaml:"P1"`
	P2     Cell    `yaml:"P2"`
	P3     Cell    `yaml:"P3"`
}

// Cell returns the row's cell for a severity.
func (r *EscalationRow) Cell(sev alert.Severity) Cell {
	switch sev {
	case alert.P0:
		return r.P0
	case alert.P1:
		return r.P1
	case alert.P2:
		return r.P2
	default:
		return r.P3
	}
}

// Repeat re-pages a role every Every until its stop condition, at most
// Limit more times, for incidents of the listed severities.
type Repeat struct {
	Every Duration `yaml:"every"`
	Limit int      `yaml:"limit"`
	// Severities are the levels whose pages repeat; default P0 and P1 (the
	// pages that must be answered within minutes).
	Severities []string `yaml:"severities,omitempty"`
}

// Applies reports whether pages of an incident of severity sev repeat.
func (r *Repeat) Applies(sev alert.Severity) bool {
	if r == nil || r.Every <= 0 {
		return false
	}
	for _, s := range r.Severities {
		if v, err := alert.ParseSeverity(s); err == nil && v == sev {
			return true
		}
	}
	return false
}

// Digests says when the next-day, weekly and monthly digest cells are sent.
type Digests struct {
	TimeZone string `yaml:"time_zone"` // IANA name, e.g. Europe/Berlin
	At       string `yaml:"at"`        // local time of day, "09:00"
	Weekday  string `yaml:"weekday"`   // for weekly digests, e.g. monday
	MonthDay int    `yaml:"month_day"` // for monthly digests, 1–28
}

// Target is one outbound integration: the keys every target has, below,
// and its type's own keys (url, routing_key, smtp …), which its
// router/notifier/<type> package decodes strictly into Settings.
type Target struct {
	Name string `yaml:"name"`
	// Type names the target's package, router/notifier/<type>: log,
	// webhook, slack, teams, pagerduty, opsgenie, statuspage, email.
	Type string `yaml:"type"`
	// Title and Text override the target's human text: Go text/templates
	// over the message (see router/template), defaulting to
	// {{ template "<type>.default.title" . }} and "<type>.default.text".
	// Title is the Slack/Teams heading, the e-mail subject, the PagerDuty
	// summary, the Opsgenie message, the Statuspage incident name.
	Title string `yaml:"title,omitempty"`
	Text  string `yaml:"text,omitempty"`
	// HTML (email) overrides the HTML part, an html/template.
	HTML string `yaml:"html,omitempty"`
	// HTTPConfig (HTTP target types) sets the client the target sends
	// with: TLS (CA, client certificate, insecure_skip_verify), proxy_url,
	// OAuth2, basic_auth or authorization, as Prometheus and Alertmanager
	// spell them. Unset: the shared client.
	HTTPConfig *promconfig.HTTPClientConfig `yaml:"http_config,omitempty"`
	// Timeout bounds one attempt.
	Timeout Duration `yaml:"timeout,omitempty"`
	// Concurrency is how many deliveries to the target may be in flight
	// at once (its bulkhead): a slow or hanging target holds only these.
	Concurrency int     `yaml:"concurrency,omitempty"`
	Retry       Retry   `yaml:"retry,omitempty"`
	Breaker     Breaker `yaml:"breaker,omitempty"`
	// RateLimit paces deliveries to the target (token bucket); excess
	// waits in the queue, most urgent first, never dropped. Its type may
	// have a default (pagerduty 2/s burst 120, slack 1/s burst 2, teams
	// 4/s burst 4, statuspage 1/s); others are unlimited.
	RateLimit *RateLimit `yaml:"rate_limit,omitempty"`
	// Fallback names a target that takes deliveries this one can't: dead
	// letters, deliveries while its breaker is open, and P0/P1 pages
	// without success for FallbackAfter.
	Fallback      string   `yaml:"fallback,omitempty"`
	FallbackAfter Duration `yaml:"fallback_after,omitempty"`

	// Settings are the type's own keys, decoded (DecodeSettings) by its
	// package into its settings type, e.g. *slack.Settings. Load leaves
	// them nil; the target registry (router/notifier) fills them.
	Settings any `yaml:"-"`
	// own holds the type's own keys as written in the file; nil when
	// there are none.
	own *ownKeys
	// decodeErrs are the problems UnmarshalYAML found ("line N: ..."),
	// which Load reports. They are kept here rather than returned: yaml
	// drops a list element whose decoding returns an error, and a target
	// with a mistyped key would then also be reported as not defined
	// wherever it is named.
	decodeErrs []string
}

// ownKeys are a target's own keys as written, and the config file's
// folder, where their relative *_file paths start.
type ownKeys struct {
	node *yaml.Node
	dir  string
}

// RateLimit is a token bucket: PerSecond tokens a second, Burst at most.
// PerSecond 0 means unlimited.
type RateLimit struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// Retry is a target's retry policy for temporary failures.
type Retry struct {
	MaxAttempts int      `yaml:"max_attempts,omitempty"`
	Backoff     Duration `yaml:"backoff,omitempty"`     // first wait
	MaxBackoff  Duration `yaml:"max_backoff,omitempty"` // cap
	// MaxAge is how long a delivery is retried (and waits out an open
	// breaker or a 429) before it is a dead letter.
	MaxAge Duration `yaml:"max_age,omitempty"`
}

// Breaker is a target's circuit breaker.
type Breaker struct {
	// Failures is how many consecutive failures open the breaker.
	Failures int `yaml:"failures,omitempty"`
	// OpenFor is how long it stays open before a half-open probe.
	OpenFor Duration `yaml:"open_for,omitempty"`
}

// Communication holds the channels of the procedures.
type Communication struct {
	// Channels are internal channels told when an incident opens.
	Channels []Channel `yaml:"channels"`
	// StatusPage is the external status page.
	StatusPage StatusPage `yaml:"status_page"`
	// Ticket, when set, files every new incident as a ticket once.
	Ticket *Ticket `yaml:"ticket,omitempty"`
}

// Ticket names the target that files incidents as tickets (a webhook to a
// Jira or GitHub automation); its answer's reference is kept on the
// incident.
type Ticket struct {
	Target string `yaml:"target"`
	// Severities limits ticketing to these levels; empty means all.
	Severities []string `yaml:"severities,omitempty"`
}

// Channel is an internal channel, e.g. #incidents for P0/P1.
type Channel struct {
	Name       string   `yaml:"name"`
	Severities []string `yaml:"severities"`
	Targets    []string `yaml:"targets"`
}

// StatusPage is the external status page.
type StatusPage struct {
	URL        string   `yaml:"url"`
	Severities []string `yaml:"severities"`
	Targets    []string `yaml:"targets"`
}

// Runbook is a named procedure attached to incidents: to the alerts its
// Match matchers hold for (a service's own runbook), else by rules (the
// default rules attach one per category). An alert's own runbook_url
// annotation wins over both.
type Runbook struct {
	Name  string   `yaml:"name"`
	Title string   `yaml:"title"`
	URL   string   `yaml:"url,omitempty"`
	Steps []string `yaml:"steps,omitempty"`
	// Match lists Alertmanager matchers over the same view as rule
	// matchers (with the decided "category"); when they all hold, this
	// runbook is attached whatever the rules attached. The first runbook
	// in order whose matchers hold wins. Empty: attached by rules only.
	Match []string `yaml:"match,omitempty"`
}
