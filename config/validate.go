package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/alertgate/alertgate/alert"
)

// Source types, one per adapter.
var sourceTypes = []string{"alertmanager", "grafana", "healthcheck", "generic"}

// minAckLinkSecret is the shortest accepted ack_link_secret: a link is a
// known message and MAC, so a short secret could be guessed offline.
const minAckLinkSecret = 32

// sourceName keeps source names usable as a URL path segment.
var sourceName = regexp.MustCompile(`(?i)^[a-z0-9_-]+$`)

// validator collects every problem of a config.
type validator struct {
	c        *Config
	errs     []error
	targets  map[string]bool
	runbooks map[string]bool
}

// Validate checks the config, including cross-references (roles and
// channels name existing targets, rules name existing runbooks, every
// matrix role exists), and returns every problem joined with errors.Join.
// Each message starts with the path of the offending item, e.g.
// "targets[2] (pagerduty-main): routing_key is required". Zero retry,
// breaker and timeout settings mean "use the default" and are accepted.
func (c *Config) Validate() error {
	v := &validator{c: c, targets: map[string]bool{LogTarget: true}, runbooks: map[string]bool{}}
	for _, t := range c.Targets {
		v.targets[t.Name] = true
	}
	for _, r := range c.Runbooks {
		v.runbooks[r.Name] = true
	}
	v.server()
	v.storage()
	v.sources()
	v.severities()
	v.rules()
	v.suppression()
	v.dedup()
	v.runbookList()
	v.targetList()
	v.roles()
	v.escalation()
	v.communication()
	v.console()
	if err := c.Exposure(); err != nil {
		v.errs = append(v.errs, err)
	}
	return errors.Join(v.errs...)
}

// add records a problem. where prefixes the message; key is the YAML path
// of the offending key.
func (v *validator) add(where, key, format string, args ...any) {
	v.errs = append(v.errs, &problem{where: where, key: key, msg: fmt.Sprintf(format, args...)})
}

// item returns how to name element i of a list section in messages, with
// its name when it has one, and its YAML path.
func item(section string, i int, name string) (where, key string) {
	key = fmt.Sprintf("%s[%d]", section, i)
	if name == "" {
		return key, key
	}
	return fmt.Sprintf("%s (%s)", key, name), key
}

func (v *validator) server() {
	s := &v.c.Server
	if strings.TrimSpace(s.Listen) == "" {
		v.add("server", "server.listen", "listen is required")
	}
	if s.ExternalURL != "" && !isHTTPURL(s.ExternalURL) {
		v.add("server", "server.external_url", "external_url must be an absolute http(s) URL")
	}
	if s.MaxBodyBytes <= 0 {
		v.add("server", "server.max_body_bytes", "max_body_bytes must be positive")
	}
	if s.MaxDecodingBytes != 0 && s.MaxDecodingBytes < s.MaxBodyBytes {
		v.add("server", "server.max_decoding_bytes", "max_decoding_bytes (%d) must be at least max_body_bytes (%d)", s.MaxDecodingBytes, s.MaxBodyBytes)
	}
	l := s.AlertLimits
	for _, f := range []struct {
		key string
		n   int
	}{{"max_labels", l.MaxLabels}, {"max_label_name_bytes", l.MaxLabelNameBytes}, {"max_label_value_bytes", l.MaxLabelValueBytes}, {"max_annotation_bytes", l.MaxAnnotationBytes}} {
		if f.n <= 0 {
			v.add("server", "server.alert_limits."+f.key, "%s must be positive", f.key)
		}
	}
	for _, f := range []namedDuration{{"read_timeout", s.ReadTimeout}, {"write_timeout", s.WriteTimeout}, {"idle_timeout", s.IdleTimeout}} {
		if f.d < 0 {
			v.add("server", "server."+f.name, "%s must not be negative", f.name)
		}
	}
	if s.MaxSilenceDuration < 0 {
		v.add("server", "server.max_silence_duration", "max_silence_duration must be positive")
	}
	if s.AckLinkTTL < 0 {
		v.add("server", "server.ack_link_ttl", "ack_link_ttl must be positive")
	}
	if n := len(s.AckLinkSecret); n > 0 && n < minAckLinkSecret {
		v.add("server", "server.ack_link_secret", "ack_link_secret must be at least %d characters (e.g. openssl rand -base64 32)", minAckLinkSecret)
	}
	if !oneOf(v.c.Log.Level, "debug", "info", "warn", "error") {
		v.add("log", "log.level", "level %q is not one of debug, info, warn, error", v.c.Log.Level)
	}
	if !oneOf(v.c.Log.Format, "json", "console") {
		v.add("log", "log.format", "format %q is not one of json, console", v.c.Log.Format)
	}
}

func (v *validator) storage() {
	s := &v.c.Storage
	switch s.Driver {
	case "sqlite":
		if s.Path == "" {
			v.add("storage", "storage.path", "path is required for driver sqlite")
		}
		for _, k := range []struct {
			key string
			set bool
		}{
			{"max_open_conns", s.MaxOpenConns != 0}, {"max_idle_conns", s.MaxIdleConns != 0}, {"conn_max_lifetime", s.ConnMaxLifetime != 0},
			{"statement_timeout", s.StatementTimeout != 0}, {"connect_timeout", s.ConnectTimeout != 0},
		} {
			if k.set {
				v.add("storage", "storage."+k.key, "%s applies to driver postgres only (SQLite uses one writer connection)", k.key)
			}
		}
	case "postgres":
		if s.DSN == "" {
			v.add("storage", "storage.dsn", "dsn (or dsn_file) is required for driver postgres")
		}
		if s.MaxOpenConns < 0 || s.MaxIdleConns < 0 {
			v.add("storage", "storage.max_open_conns", "connection counts must not be negative")
		}
		if s.MaxOpenConns > 0 && s.MaxIdleConns > s.MaxOpenConns {
			v.add("storage", "storage.max_idle_conns", "max_idle_conns %d is more than max_open_conns %d", s.MaxIdleConns, s.MaxOpenConns)
		}
		if s.MaxOpenConns > 0 && s.MaxOpenConns < 4 {
			v.add("storage", "storage.max_open_conns", "max_open_conns must be at least 4 (ingest, steps, deliveries and reads run at once)")
		}
		for _, k := range []struct {
			key string
			d   Duration
		}{{"conn_max_lifetime", s.ConnMaxLifetime}, {"statement_timeout", s.StatementTimeout}, {"connect_timeout", s.ConnectTimeout}} {
			if k.d < 0 {
				v.add("storage", "storage."+k.key, "%s must not be negative", k.key)
			}
		}
	default:
		v.add("storage", "storage.driver", "driver %q is not one of sqlite, postgres", s.Driver)
	}
}

func (v *validator) sources() {
	seen := map[string]int{}
	for i := range v.c.Sources {
		s := &v.c.Sources[i]
		where, key := item("sources", i, s.Name)
		switch {
		case s.Name == "":
			v.add(where, key+".name", "name is required")
		case !sourceName.MatchString(s.Name):
			v.add(where, key+".name", "name may only use letters, digits, '-' and '_' (it is part of the URL)")
		}
		if j, dup := seen[strings.ToLower(s.Name)]; dup && s.Name != "" {
			v.add(where, key+".name", "name is already used by sources[%d]", j)
		} else {
			seen[strings.ToLower(s.Name)] = i
		}
		if !oneOf(s.Type, sourceTypes...) {
			v.add(where, key+".type", "type %q is not one of %s", s.Type, strings.Join(sourceTypes, ", "))
		}
		switch {
		case s.Type == "generic" && s.Mapping == nil:
			v.add(where, key+".mapping", "type generic requires a mapping")
		case s.Type == "generic" && s.Mapping.Title == "":
			v.add(where, key+".mapping.title", "mapping.title is required")
		case s.Type != "generic" && s.Mapping != nil:
			v.add(where, key+".mapping", "mapping is only allowed for type generic")
		}
		if b := s.Auth.Basic; b != nil {
			if b.Username == "" {
				v.add(where, key+".auth.basic.username", "auth.basic.username is required")
			}
			if b.Password == "" {
				v.add(where, key+".auth.basic.password", "auth.basic.password (or password_file) is required")
			}
		}
		if h := s.Auth.HMAC; h != nil {
			if h.Secret == "" {
				v.add(where, key+".auth.hmac.secret", "auth.hmac.secret (or secret_file) is required")
			}
			if h.MaxSkew < 0 {
				v.add(where, key+".auth.hmac.max_skew", "auth.hmac.max_skew must not be negative")
			}
		}
	}
}

func (v *validator) severities() {
	for _, sev := range alert.Severities {
		l := v.c.Severities.Level(sev)
		where := "severities." + sev.String()
		for _, f := range []namedDuration{{"response", l.Response}, {"resolution", l.Resolution}, {"updates", l.Updates}} {
			if f.d <= 0 {
				v.add(where, where+"."+f.name, "%s must be positive", f.name)
			}
		}
	}
}

func (v *validator) rules() {
	for i := range v.c.Rules {
		r := &v.c.Rules[i]
		where, key := item("rules", i, r.Name)
		for j, m := range r.Match {
			if err := checkMatcher(m); err != nil {
				v.add(where, fmt.Sprintf("%s.match[%d]", key, j), "match[%d] %q: %v", j, m, err)
			}
		}
		if r.Severity != "" {
			if _, err := alert.ParseSeverity(r.Severity); err != nil {
				v.add(where, key+".severity", "%v", err)
			}
		}
		if r.Runbook != "" && !v.runbooks[r.Runbook] {
			v.add(where, key+".runbook", "runbook %q is not defined in runbooks", r.Runbook)
		}
	}
}

func (v *validator) dedup() {
	d := &v.c.Dedup
	for i, l := range d.GroupBy {
		if strings.TrimSpace(l) == "" {
			v.add("dedup", fmt.Sprintf("dedup.group_by[%d]", i), "group_by[%d] is empty", i)
		}
	}
	if d.ReopenWithin < 0 {
		v.add("dedup", "dedup.reopen_within", "reopen_within must not be negative")
	}
	f := &d.Flapping
	if f.Reopens < 0 {
		v.add("dedup", "dedup.flapping.reopens", "flapping.reopens must not be negative (0 turns flapping off)")
	}
	if f.Reopens > 0 && f.Window <= 0 {
		v.add("dedup", "dedup.flapping.window", "flapping.window must be positive when flapping.reopens is set")
	}
	if f.Role != "" && v.c.Escalation.Row(f.Role) == nil {
		v.add("dedup", "dedup.flapping.role", "flapping.role %q has no row in escalation.matrix", f.Role)
	}
}

func (v *validator) runbookList() {
	seen := map[string]int{}
	for i := range v.c.Runbooks {
		r := &v.c.Runbooks[i]
		where, key := item("runbooks", i, r.Name)
		if r.Name == "" {
			v.add(where, key+".name", "name is required")
			continue
		}
		if j, dup := seen[r.Name]; dup {
			v.add(where, key+".name", "name is already used by runbooks[%d]", j)
		} else {
			seen[r.Name] = i
		}
		if r.URL != "" && !isHTTPURL(r.URL) {
			v.add(where, key+".url", "url must be an absolute http(s) URL")
		}
		v.matchers(where, key, "match", r.Match, false)
	}
}

// severityList checks a list of severities such as a channel's.
func (v *validator) severityList(where, key string, sevs []string) {
	for i, s := range sevs {
		if _, err := alert.ParseSeverity(s); err != nil {
			v.add(where, fmt.Sprintf("%s[%d]", key, i), "%v", err)
		}
	}
}

// targetRefs checks that every name in a list of target names exists.
func (v *validator) targetRefs(where, key string, names []string) {
	for i, n := range names {
		if !v.targets[n] {
			v.add(where, fmt.Sprintf("%s[%d]", key, i), "target %q is not defined in targets", n)
		}
	}
}

type namedDuration struct {
	name string
	d    Duration
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

// isHTTPURL reports whether s is an absolute http or https URL. Callers
// never echo s: target URLs can carry tokens.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
