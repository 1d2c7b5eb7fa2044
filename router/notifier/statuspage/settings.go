package statuspage

import (
	"errors"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Settings are a statuspage target's own keys.
type Settings struct {
	// APIKey is a Statuspage API key (Authorization: OAuth …).
	APIKey     config.Secret `yaml:"api_key,omitempty"`
	APIKeyFile string        `yaml:"api_key_file,omitempty"`
	// PageID is the page incidents are opened on; ComponentIDs the
	// components an incident affects.
	PageID       string   `yaml:"page_id,omitempty"`
	ComponentIDs []string `yaml:"component_ids,omitempty"`
	// URL overrides DefaultURL (a proxy).
	URL     config.Secret `yaml:"url,omitempty"`
	URLFile string        `yaml:"url_file,omitempty"`
}

// Validate checks the settings.
func (s *Settings) Validate() error {
	var errs []error
	if s.APIKey == "" {
		errs = append(errs, notify.Errorf("api_key", "api_key (or api_key_file) is required"))
	}
	if s.PageID == "" {
		errs = append(errs, notify.Errorf("page_id", "page_id is required"))
	}
	if err := notify.CheckURL("url", s.URL); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Descriptor is the statuspage target type.
var Descriptor = notify.Descriptor{
	Type: "statuspage",
	HTTP: true,
	// The API allows about one request a second.
	Defaults: notify.Defaults{RateLimit: &config.RateLimit{PerSecond: 1, Burst: 1}},
	Settings: func() notify.Settings { return &Settings{} },
	New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
		sp := s.(*Settings)
		return New(Config{APIKey: sp.APIKey, PageID: sp.PageID, ComponentIDs: sp.ComponentIDs, URL: sp.URL.Value(),
			Timeout: p.Timeout, Version: p.Version, Templates: p.Templates}, p.Client, p.Logger, p.Now)
	},
}
