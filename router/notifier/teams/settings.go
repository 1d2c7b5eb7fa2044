package teams

import (
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Settings are a teams target's own keys.
type Settings struct {
	// URL is the incoming webhook (or workflow) URL; it carries a token.
	URL     config.Secret `yaml:"url,omitempty"`
	URLFile string        `yaml:"url_file,omitempty"`
}

// Validate checks the settings.
func (s *Settings) Validate() error { return notify.RequireURL("teams", s.URL) }

// Descriptor is the teams target type.
var Descriptor = notify.Descriptor{
	Type: "teams",
	HTTP: true,
	// Teams answers 429 beyond about 4 messages a second.
	Defaults: notify.Defaults{RateLimit: &config.RateLimit{PerSecond: 4, Burst: 4}},
	Settings: func() notify.Settings { return &Settings{} },
	New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
		return New(Config{URL: s.(*Settings).URL, Timeout: p.Timeout, Version: p.Version, Templates: p.Templates}, p.Client, p.Logger, p.Now)
	},
}
