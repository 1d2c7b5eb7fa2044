package pagerduty

import (
	"errors"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Settings are a pagerduty target's own keys.
type Settings struct {
	// RoutingKey is the integration key of an Events API v2 integration.
	RoutingKey     config.Secret `yaml:"routing_key,omitempty"`
	RoutingKeyFile string        `yaml:"routing_key_file,omitempty"`
	// URL overrides the Events API URL (DefaultEventsURL).
	URL     config.Secret `yaml:"url,omitempty"`
	URLFile string        `yaml:"url_file,omitempty"`
	// WebhookSecret is the signing secret of a PagerDuty webhook (v3)
	// subscription: acknowledging or resolving in PagerDuty then
	// acknowledges or resolves the incident here.
	WebhookSecret     config.Secret `yaml:"webhook_secret,omitempty"`
	WebhookSecretFile string        `yaml:"webhook_secret_file,omitempty"`
}

// Validate checks the settings.
func (s *Settings) Validate() error {
	var errs []error
	if s.RoutingKey == "" {
		errs = append(errs, notify.Errorf("routing_key", "routing_key (or routing_key_file) is required"))
	}
	if err := notify.CheckURL("url", s.URL); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Descriptor is the pagerduty target type.
var Descriptor = notify.Descriptor{
	Type: "pagerduty",
	HTTP: true,
	// 120 events a minute per routing key.
	Defaults: notify.Defaults{RateLimit: &config.RateLimit{PerSecond: 2, Burst: 120}},
	Settings: func() notify.Settings { return &Settings{} },
	New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
		pd := s.(*Settings)
		return New(Config{RoutingKey: pd.RoutingKey, URL: pd.URL, Timeout: p.Timeout, Version: p.Version, Templates: p.Templates}, p.Client, p.Logger, p.Now)
	},
}
