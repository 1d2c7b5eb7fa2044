package email

import (
	"errors"
	"fmt"
	"net/mail"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

// Settings are an email target's own keys.
type Settings struct {
	SMTP SMTP `yaml:"smtp"`
}

// SMTP is an email target's server and addresses.
type SMTP struct {
	// Host and Port of the server; port 465 is implicit TLS, others use
	// STARTTLS when the server offers it (required unless insecure).
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// Username and Password authenticate (PLAIN) when set.
	Username     string        `yaml:"username,omitempty"`
	Password     config.Secret `yaml:"password,omitempty"`
	PasswordFile string        `yaml:"password_file,omitempty"`
	From         string        `yaml:"from"`
	To           []string      `yaml:"to"`
	// Insecure allows a server without TLS (tests, local relays).
	Insecure bool `yaml:"insecure,omitempty"`
}

// Validate checks the settings.
func (s *Settings) Validate() error {
	switch sm := s.SMTP; {
	case sm.Host == "" && sm.Port == 0 && sm.From == "" && len(sm.To) == 0:
		return notify.Errorf("smtp", "smtp (host, port, from, to) is required for type email")
	case sm.Host == "" || sm.Port <= 0 || sm.Port > 65535:
		return notify.Errorf("smtp", "smtp.host and smtp.port (1-65535) are required")
	case sm.From == "" || len(sm.To) == 0:
		return notify.Errorf("smtp", "smtp.from and smtp.to are required")
	}
	var errs []error
	if _, err := mail.ParseAddress(s.SMTP.From); err != nil {
		errs = append(errs, notify.Errorf("smtp.from", "smtp.from %q is not an address: %v", s.SMTP.From, err))
	}
	for i, to := range s.SMTP.To {
		if _, err := mail.ParseAddress(to); err != nil {
			errs = append(errs, notify.Errorf(fmt.Sprintf("smtp.to[%d]", i), "smtp.to %q is not an address: %v", to, err))
		}
	}
	return errors.Join(errs...)
}

// Descriptor is the email target type.
var Descriptor = notify.Descriptor{
	Type:     "email",
	Settings: func() notify.Settings { return &Settings{} },
	New: func(s notify.Settings, p notify.Params) (notify.Notifier, error) {
		return New(Config{SMTP: s.(*Settings).SMTP, Timeout: p.Timeout, Version: p.Version, Templates: p.Templates}, p.Logger, p.Now)
	},
}
