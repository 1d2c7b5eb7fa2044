package slack

import (
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Settings are a slack target's own keys.
type Settings struct {
	// URL is the incoming webhook's URL; its path is a token.
	URL     config.Secret `yaml:"url,omitempty"`
	URLFile string        `yaml:"url_file,omitempty"`
}

// Validate checks the settings.
func (s *Settings) Validate() error { return notify.RequireURL("slack", s.URL) }

// Descriptor is the slack target type.
var Descriptor = notify.Descriptor{
	Type: "slack",
	HTTP: true,
	// 1 message/s per webhook, short bursts.
	Defaults: notify.Defaults{RateLimit: &config.RateLimit{PerSecond: 1, Burst: 2}},
	Settings: func() notify.Settings { return &Settings{} },
	New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
		return New(Config{URL: s.(*Settings).URL, Timeout: p.Timeout, Version: p.Version, Templates: p.Templates}, p.Client, p.Logger, p.Now)
	},
}
