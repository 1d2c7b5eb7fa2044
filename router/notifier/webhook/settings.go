package webhook

import (
	"errors"
	"strings"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Settings are a webhook target's own keys.
type Settings struct {
	// URL is the endpoint; it may carry a token.
	URL     config.Secret `yaml:"url,omitempty"`
	URLFile string        `yaml:"url_file,omitempty"`
	// Secret signs every body (HMAC-SHA256) when set.
	Secret     config.Secret `yaml:"secret,omitempty"`
	SecretFile string        `yaml:"secret_file,omitempty"`
	// Headers are added to every request; their values are secrets.
	Headers map[string]string `yaml:"headers,omitempty"`
	// Template renders the body with Go's text/template from the message;
	// default: the message as JSON.
	Template string `yaml:"template,omitempty"`
}

// Validate checks the settings.
func (s *Settings) Validate() error {
	var errs []error
	if err := notify.RequireURL("webhook", s.URL); err != nil {
		errs = append(errs, err)
	}
	for h := range s.Headers {
		if strings.TrimSpace(h) == "" {
			errs = append(errs, notify.Errorf("headers", "header names must not be empty"))
			break
		}
	}
	return errors.Join(errs...)
}

// Descriptor is the webhook target type.
var Descriptor = notify.Descriptor{
	Type:     "webhook",
	HTTP:     true,
	Settings: func() notify.Settings { return &Settings{} },
	New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
		w := s.(*Settings)
		return New(Config{URL: w.URL, Secret: w.Secret, Headers: w.Headers, Template: w.Template,
			Timeout: p.Timeout, Version: p.Version, Templates: p.Templates}, p.Client, p.Logger, p.Now)
	},
}
