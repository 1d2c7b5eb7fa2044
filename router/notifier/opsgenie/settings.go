package opsgenie

import (
	"errors"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Settings are an opsgenie target's own keys.
type Settings struct {
	// APIKey is the key of an API integration (Authorization: GenieKey …).
	APIKey     config.Secret `yaml:"api_key,omitempty"`
	APIKeyFile string        `yaml:"api_key_file,omitempty"`
	// Region is us (default) or eu.
	Region string `yaml:"region,omitempty"`
	// URL overrides the region's base URL (a proxy).
	URL     config.Secret `yaml:"url,omitempty"`
	URLFile string        `yaml:"url_file,omitempty"`
	// Responders are added to every alert.
	Responders []Responder `yaml:"responders,omitempty"`
}

// Responder is an Opsgenie responder: type team, user, escalation or
// schedule, identified by id, name or (users) username.
type Responder struct {
	Type     string `yaml:"type"`
	ID       string `yaml:"id,omitempty"`
	Name     string `yaml:"name,omitempty"`
	Username string `yaml:"username,omitempty"`
}

// Validate checks the settings.
func (s *Settings) Validate() error {
	var errs []error
	if s.APIKey == "" {
		errs = append(errs, notify.Errorf("api_key", "api_key (or api_key_file) is required"))
	}
	if s.Region != "" && s.Region != "us" && s.Region != "eu" {
		errs = append(errs, notify.Errorf("region", "region %q is not us or eu", s.Region))
	}
	if err := notify.CheckURL("url", s.URL); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Descriptor is the opsgenie target type.
var Descriptor = notify.Descriptor{
	Type:     "opsgenie",
	HTTP:     true,
	Settings: func() notify.Settings { return &Settings{} },
	New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
		og := s.(*Settings)
		return New(Config{APIKey: og.APIKey, Region: og.Region, URL: og.URL.Value(), Responders: og.Responders,
			Timeout: p.Timeout, Version: p.Version, Templates: p.Templates}, p.Client, p.Logger, p.Now)
	},
}
