package notify

import (
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
)

// Descriptor is everything about one target type, exported by its
// package router/notifier/<type> as Descriptor and listed once in the
// registry (router/notifier.Types): adding a type is that package and
// that line. It is Alertmanager's notify/<name> with its DefaultConfig
// and its case in config/receiver.
type Descriptor struct {
	// Type is what targets write as type: "slack".
	Type string
	// HTTP says the type posts over HTTP: its targets may set http_config
	// and get a client built from it.
	HTTP bool
	// Defaults are the type's own delivery defaults; what they leave zero
	// takes config's general defaults.
	Defaults Defaults
	// Settings returns the type's settings holding their defaults, a
	// pointer to a struct: the target's own YAML keys are decoded into it
	// strictly (a key it has no field for is an error), and its
	// config.Secret fields resolve from ${VAR} or their X_file sibling.
	Settings func() Settings
	// Templates are the type's default message templates, Go templates
	// defining "<type>.default.title" and "<type>.default.text" (they may
	// use the shared ones, {{ template "alertgate.title" . }}); empty for
	// the types whose defaults are in router/template/default.tmpl.
	Templates string
	// New builds the notifier of a target from its validated settings (of
	// the type Settings returned). It sends nothing.
	New func(s Settings, p Params) (Notifier, error)
}

// Settings are a target type's own keys. Validate reports each problem
// as a *FieldError naming its key.
type Settings interface {
	Validate() error
}

// Defaults are a type's own delivery defaults.
type Defaults struct {
	// RateLimit paces the type's targets unless they set rate_limit
	// (the service's documented limit, e.g. Slack's 1 message/s).
	RateLimit *config.RateLimit
}

// Params are what New gets besides the settings.
type Params struct {
	// Target is the target's configuration (name, type, timeout,
	// templates' sources).
	Target config.Target
	// Client sends the requests of HTTP types: built from the target's
	// http_config, else the process's shared client.
	Client *http.Client
	// Logger is named for the target; never nil.
	Logger *zap.Logger
	// Now is the clock; never nil.
	Now func() time.Time
	// Version is alertgate's version for User-Agent headers.
	Version string
	// Templates are the target's compiled message templates.
	Templates Templates
	// Timeout bounds one attempt made without a deadline of its own (the
	// engine gives each attempt one; see SendHTTP).
	Timeout time.Duration
}

// FieldError is a problem with one key of a target's settings.
type FieldError struct {
	// Key is the YAML path below the target: "url", "smtp.port".
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Errorf returns a *FieldError for key.
func Errorf(key, format string, args ...any) *FieldError {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}
