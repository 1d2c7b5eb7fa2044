package lognotifier

import "github.com/alertgate/alertgate/router/notify"

// Settings are a log target's own keys: none.
type Settings struct{}

// Validate checks nothing.
func (*Settings) Validate() error { return nil }

// Descriptor is the log target type: every config has one target of it,
// named log.
var Descriptor = notify.Descriptor{
	Type:     "log",
	Settings: func() notify.Settings { return &Settings{} },
	New: func(_ notify.Settings, p notify.Params) (notify.Notifier, error) {
		return New(p.Logger, p.Templates)
	},
}
