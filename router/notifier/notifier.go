package notifier

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/email"
	"github.com/alertgate/alertgate/router/notifier/lognotifier"
	"github.com/alertgate/alertgate/router/notifier/opsgenie"
	"github.com/alertgate/alertgate/router/notifier/pagerduty"
	"github.com/alertgate/alertgate/router/notifier/slack"
	"github.com/alertgate/alertgate/router/notifier/statuspage"
	"github.com/alertgate/alertgate/router/notifier/teams"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
)

// Types lists every target type alertgate knows, one line each. Adding a
// type is its package router/notifier/<type>, exporting a Descriptor, and
// its line here.
var Types = []notify.Descriptor{
	lognotifier.Descriptor,
	webhook.Descriptor,
	slack.Descriptor,
	pagerduty.Descriptor,
	opsgenie.Descriptor,
	teams.Descriptor,
	email.Descriptor,
	statuspage.Descriptor,
}

// Default is the registry of Types: what serve, reload and check-config
// use.
var Default = NewRegistry(Types...)

// Registry finds the descriptor of a target's type, to check and to build
// targets.
type Registry struct {
	byType map[string]notify.Descriptor
	names  []string
}

// NewRegistry returns the registry of descriptors ds; a type given twice
// keeps the last.
func NewRegistry(ds ...notify.Descriptor) *Registry {
	r := &Registry{byType: make(map[string]notify.Descriptor, len(ds))}
	for _, d := range ds {
		if _, dup := r.byType[d.Type]; !dup {
			r.names = append(r.names, d.Type)
		}
		r.byType[d.Type] = d
	}
	return r
}

// Lookup returns the descriptor of type typ.
func (r *Registry) Lookup(typ string) (notify.Descriptor, bool) {
	d, ok := r.byType[typ]
	return d, ok
}

// Names lists the registry's types in order.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Lookup returns the descriptor of a type Default knows.
func Lookup(typ string) (notify.Descriptor, bool) { return Default.Lookup(typ) }

// Deps are what notifiers need from the process.
type Deps struct {
	// Client sends the requests of HTTP targets without http_config;
	// required for them.
	Client *http.Client
	// Logger is named per target by New; nil discards.
	Logger *zap.Logger
	// Now is the clock (signature timestamps, Retry-After dates); nil
	// means time.Now.
	Now func() time.Time
	// Version is alertgate's version for User-Agent headers.
	Version string
	// Templates is the config's template set (template.FromConfig); nil
	// means the defaults alone.
	Templates *template.Set
}

// Check is a config.Check: for every target it finds the descriptor of its
// type, decodes the target's own keys strictly into the type's settings
// (filling Target.Settings), resolves their secrets, validates them and
// its http_config, and fills the type's defaults the target leaves unset
// (its rate limit). Load places each problem in the file.
func (r *Registry) Check(cfg *config.Config) error {
	var errs []error
	for i := range cfg.Targets {
		t := &cfg.Targets[i]
		key := fmt.Sprintf("targets[%d]", i)
		where := key
		if t.Name != "" {
			where = fmt.Sprintf("%s (%s)", key, t.Name)
		}
		d, ok := r.byType[t.Type]
		if !ok {
			errs = append(errs, config.FieldError(where, key+".type", fmt.Errorf("type %q is not one of %s", t.Type, strings.Join(r.names, ", "))))
			continue
		}
		// Settings decoded before (a config checked twice) or made in code
		// stay; the others are decoded from the file.
		s, ok := t.Settings.(notify.Settings)
		if !ok || reflect.TypeOf(s) != reflect.TypeOf(d.Settings()) {
			s = d.Settings()
			if err := t.DecodeSettings(key, s); err != nil {
				errs = append(errs, unjoin(err)...)
			}
		}
		for _, err := range unjoin(s.Validate()) {
			var fe *notify.FieldError
			if errors.As(err, &fe) {
				errs = append(errs, config.FieldError(where, key+"."+fe.Key, errors.New(fe.Msg)))
			} else {
				errs = append(errs, config.FieldError(where, key, err))
			}
		}
		if t.HTTPConfig != nil {
			if !d.HTTP {
				errs = append(errs, config.FieldError(where, key+".http_config", fmt.Errorf("http_config is only for targets that send over HTTP, not type %s", t.Type)))
			} else if err := t.HTTPConfig.Validate(); err != nil {
				errs = append(errs, config.FieldError(where, key+".http_config", err))
			} else if _, err := promconfig.NewClientFromConfig(*t.HTTPConfig, t.Name); err != nil {
				// Files it names (CA, client certificate) are read now, so
				// a missing one is reported at its line, not at start.
				errs = append(errs, config.FieldError(where, key+".http_config", err))
			}
		}
		t.Settings = s
		if t.RateLimit == nil && d.Defaults.RateLimit != nil {
			rl := *d.Defaults.RateLimit // the type's default, as Load fills the general ones
			t.RateLimit = &rl
		}
	}
	errs = append(errs, r.checkTemplates(cfg)...)
	return errors.Join(errs...)
}

// checkTemplates compiles the message templates (the types' own, the
// config's templates files, each target's title, text and html) and renders
// them against sample messages, as building the targets does, so that
// check-config reports a broken one at its line.
func (r *Registry) checkTemplates(cfg *config.Config) []error {
	set, err := r.TemplateSet(cfg)
	if err != nil {
		return []error{config.FieldError("templates", "templates", err)}
	}
	var errs []error
	for i, t := range cfg.Targets {
		if _, known := r.byType[t.Type]; !known {
			continue // reported with its type
		}
		if _, err := set.Target(t); err != nil {
			key := fmt.Sprintf("targets[%d]", i)
			where := fmt.Sprintf("%s (%s)", key, t.Name)
			for _, err := range unjoin(err) {
				part, _, _ := strings.Cut(err.Error(), ":")
				if part == "title" || part == "text" || part == "html" {
					errs = append(errs, config.FieldError(where, key+"."+part, err))
				} else {
					errs = append(errs, config.FieldError(where, key, err))
				}
			}
		}
	}
	return errs
}

// CheckConfig is Default.Check.
func CheckConfig(cfg *config.Config) error { return Default.Check(cfg) }

// settings returns t's settings: those Check decoded, else decoded now
// (a config loaded without the check).
func (r *Registry) settings(d notify.Descriptor, t config.Target) (notify.Settings, error) {
	if s, ok := t.Settings.(notify.Settings); ok && reflect.TypeOf(s) == reflect.TypeOf(d.Settings()) {
		return s, nil
	}
	s := d.Settings()
	if err := t.DecodeSettings("target "+t.Name, s); err != nil {
		return nil, err
	}
	return s, nil
}

// New returns the notifier for target t, built by its type's descriptor.
// Secrets come from t's resolved settings; an HTTP target with
// http_config gets a client of its own built from it.
func (r *Registry) New(t config.Target, deps Deps) (notify.Notifier, error) {
	d, ok := r.byType[t.Type]
	if !ok {
		return nil, fmt.Errorf("target %q: unknown type %q (want one of %s)", t.Name, t.Type, strings.Join(r.names, ", "))
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("notifier").With(zap.String("target", t.Name), zap.String("type", t.Type))
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	s, err := r.settings(d, t)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	client, err := r.client(d, t, deps.Client)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	set := deps.Templates
	if set == nil {
		if set, err = r.TemplateSet(&config.Config{}); err != nil {
			return nil, err
		}
	}
	tmpl, err := set.Target(t)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	n, err := d.New(s, notify.Params{Target: t, Client: client, Logger: log, Now: now, Version: deps.Version,
		Templates: tmpl, Timeout: t.Timeout.D()})
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	return n, nil
}

// client is the client an HTTP target sends with: its own from its
// http_config, else shared.
func (r *Registry) client(d notify.Descriptor, t config.Target, shared *http.Client) (*http.Client, error) {
	switch {
	case !d.HTTP && t.HTTPConfig != nil:
		return nil, fmt.Errorf("http_config is only for targets that send over HTTP, not type %s", t.Type)
	case !d.HTTP:
		return nil, nil
	case t.HTTPConfig != nil:
		c, err := promconfig.NewClientFromConfig(*t.HTTPConfig, t.Name)
		if err != nil {
			return nil, fmt.Errorf("http_config: %w", err)
		}
		return c, nil
	case shared == nil:
		return nil, errors.New("no http client")
	}
	return shared, nil
}

// TemplateSet compiles cfg's message templates with the default ones of
// the registry's types.
func (r *Registry) TemplateSet(cfg *config.Config) (*template.Set, error) {
	var defaults []string
	for _, typ := range r.names {
		if src := r.byType[typ].Templates; src != "" {
			defaults = append(defaults, src)
		}
	}
	return template.FromConfig(cfg, defaults...)
}

// New is Default.New.
func New(t config.Target, deps Deps) (notify.Notifier, error) { return Default.New(t, deps) }

// Build compiles cfg's templates (the config's files, every target's
// title, text and html) and builds the notifier of every target,
// returning every error at once. It is what serve does at start and on
// reload, so a config that passes check-config starts. Building sends
// nothing.
func (r *Registry) Build(cfg *config.Config, deps Deps) (map[string]notify.Notifier, error) {
	set, err := r.TemplateSet(cfg)
	if err != nil {
		return nil, err
	}
	deps.Templates = set
	out := map[string]notify.Notifier{}
	var errs []error
	for _, t := range cfg.Targets {
		n, err := r.New(t, deps)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[t.Name] = n
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Build is Default.Build.
func Build(cfg *config.Config, deps Deps) (map[string]notify.Notifier, error) {
	return Default.Build(cfg, deps)
}

// unjoin flattens an errors.Join error into its parts.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok { //nolint:errorlint // flattening a join, not matching
		return j.Unwrap()
	}
	return []error{err}
}
