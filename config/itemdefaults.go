package config

import "time"

// Per-item defaults that Load fills into whatever the file leaves unset.
const (
	DefaultTargetTimeout     = 10 * time.Second
	DefaultRetryMaxAttempts  = 8
	DefaultRetryBackoff      = 2 * time.Second
	DefaultRetryMaxBackoff   = 5 * time.Minute
	DefaultRetryMaxAge       = time.Hour
	DefaultTargetConcurrency = 32
	DefaultBreakerFailures   = 5
	DefaultBreakerOpenFor    = 30 * time.Second
	DefaultHMACHeader        = "X-Signature-256"
	DefaultHMACMaxSkew       = 5 * time.Minute
	DefaultAckLinkTTL        = 24 * time.Hour
	DefaultFlappingReopens   = 3
	DefaultFlappingWindow    = time.Hour
)

// DefaultRepeatSeverities are the levels whose pages repeat when a matrix
// row's repeat lists none: P0 and P1, which must be answered within
// minutes.
func DefaultRepeatSeverities() []string { return []string{"P0", "P1"} }

// ApplyDefaults fills per-item defaults and adds the built-in log target
// when no target is named log: the one place both happen. Load runs it
// after resolving secrets, before Validate; a config made in code (tests)
// calls it itself.
func (c *Config) ApplyDefaults() {
	setDuration(&c.Server.AckLinkTTL, DefaultAckLinkTTL)
	setDuration(&c.Server.MaxSilenceDuration, DefaultMaxSilenceDuration)
	for i := range c.Sources {
		if h := c.Sources[i].Auth.HMAC; h != nil {
			if h.Header == "" {
				h.Header = DefaultHMACHeader
			}
			if h.TimestampHeader != "" && h.MaxSkew == 0 {
				h.MaxSkew = Duration(DefaultHMACMaxSkew)
			}
		}
	}
	for i := range c.Escalation.Matrix {
		if r := c.Escalation.Matrix[i].Repeat; r != nil && len(r.Severities) == 0 {
			r.Severities = DefaultRepeatSeverities()
		}
	}
	if c.Target(LogTarget) == nil {
		c.Targets = append(c.Targets, Target{Name: LogTarget, Type: "log"})
	}
	for i := range c.Targets {
		c.Targets[i].ApplyDefaults()
	}
}

// ApplyDefaults fills the delivery settings the target leaves unset
// (timeout, retry, concurrency, breaker) with the defaults above: the one
// place they are applied, by Load and by the router for targets made in
// code. A type's own defaults (a rate limit) come from its package.
func (t *Target) ApplyDefaults() {
	setDuration(&t.Timeout, DefaultTargetTimeout)
	setInt(&t.Retry.MaxAttempts, DefaultRetryMaxAttempts)
	setDuration(&t.Retry.Backoff, DefaultRetryBackoff)
	setDuration(&t.Retry.MaxBackoff, DefaultRetryMaxBackoff)
	setDuration(&t.Retry.MaxAge, DefaultRetryMaxAge)
	setInt(&t.Concurrency, DefaultTargetConcurrency)
	setInt(&t.Breaker.Failures, DefaultBreakerFailures)
	setDuration(&t.Breaker.OpenFor, DefaultBreakerOpenFor)
}

func setDuration(d *Duration, def time.Duration) {
	if *d == 0 {
		*d = Duration(def)
	}
}

func setInt(n *int, def int) {
	if *n == 0 {
		*n = def
	}
}

// Target returns the target called name, or nil.
func (c *Config) Target(name string) *Target {
	for i := range c.Targets {
		if c.Targets[i].Name == name {
			return &c.Targets[i]
		}
	}
	return nil
}

// Runbook returns the runbook an incident's runbook field refers to: the
// configured runbook of that name, or, for an http(s) URL (an alert's own
// runbook_url annotation), a runbook that is just that link. Nil when
// neither.
func (c *Config) Runbook(ref string) *Runbook {
	for i := range c.Runbooks {
		if c.Runbooks[i].Name == ref {
			rb := c.Runbooks[i]
			return &rb
		}
	}
	if ref != "" && isHTTPURL(ref) {
		return &Runbook{Name: ref, Title: ref, URL: ref}
	}
	return nil
}
