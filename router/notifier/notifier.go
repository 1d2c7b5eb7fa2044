package notifier

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

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

// Target types New knows.
const (
	TypeLog        = "log"
	TypeWebhook    = "webhook"
	TypeSlack      = "slack"
	TypePagerDuty  = "pagerduty"
	TypeOpsgenie   = "opsgenie"
	TypeTeams      = "teams"
	TypeEmail      = "email"
	TypeStatuspage = "statuspage"
)

// Types lists the target types New accepts, for config validation.
var Types = []string{TypeLog, TypeWebhook, TypeSlack, TypePagerDuty, TypeOpsgenie, TypeTeams, TypeEmail, TypeStatuspage}

// Deps are what notifiers need from the process.
type Deps struct {
	// Client sends every HTTP notifier's requests; required for them.
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

// New returns the notifier for target t. Secrets come from t's resolved
// Secret fields (the *_file variants are read by config loading).
func New(t config.Target, deps Deps) (notify.Notifier, error) {
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("notifier").With(zap.String("target", t.Name), zap.String("type", t.Type))
	if t.Type != TypeLog && t.Type != TypeEmail && deps.Client == nil {
		return nil, fmt.Errorf("target %q: no http client", t.Name)
	}
	set := deps.Templates
	if set == nil {
		set = template.Default()
	}
	tmpl, err := set.Target(t)
	if err != nil && slices.Contains(Types, t.Type) {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	var n notify.Notifier
	switch t.Type {
	case TypeLog:
		n, err = lognotifier.New(log, tmpl)
	case TypeWebhook:
		n, err = webhook.New(webhook.Config{
			URL: t.URL, Secret: t.Secret, Headers: t.Headers, Timeout: t.Timeout.D(), Version: deps.Version, Template: t.Template, Templates: tmpl,
		}, deps.Client, log, deps.Now)
	case TypeSlack:
		n, err = slack.New(slack.Config{
			URL: t.URL, Timeout: t.Timeout.D(), Version: deps.Version, Templates: tmpl,
		}, deps.Client, log, deps.Now)
	case TypePagerDuty:
		n, err = pagerduty.New(pagerduty.Config{
			RoutingKey: t.RoutingKey, URL: t.URL, Timeout: t.Timeout.D(), Version: deps.Version, Templates: tmpl,
		}, deps.Client, log, deps.Now)
	case TypeEmail:
		if t.SMTP == nil {
			return nil, fmt.Errorf("target %q: email needs smtp settings", t.Name)
		}
		n, err = email.New(email.Config{SMTP: *t.SMTP, Timeout: t.Timeout.D(), Version: deps.Version, Templates: tmpl}, log, deps.Now)
	case TypeStatuspage:
		n, err = statuspage.New(statuspage.Config{
			APIKey: t.APIKey, PageID: t.PageID, ComponentIDs: t.ComponentIDs, URL: t.URL.Value(), Timeout: t.Timeout.D(), Version: deps.Version, Templates: tmpl,
		}, deps.Client, log, deps.Now)
	case TypeTeams:
		n, err = teams.New(teams.Config{URL: t.URL, Timeout: t.Timeout.D(), Version: deps.Version, Templates: tmpl}, deps.Client, log, deps.Now)
	case TypeOpsgenie:
		n, err = opsgenie.New(opsgenie.Config{
			APIKey: t.APIKey, Region: t.Region, URL: t.URL.Value(), Responders: t.Responders, Timeout: t.Timeout.D(), Version: deps.Version, Templates: tmpl,
		}, deps.Client, log, deps.Now)
	default:
		return nil, fmt.Errorf("target %q: unknown type %q (want one of %s)", t.Name, t.Type, strings.Join(Types, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	return n, nil
}

// Build compiles cfg's templates (the config's files, every target's
// title, text and html) and builds the notifier of every target, the
// implicit log target included, returning every error at once. It is
// what serve does at start and on reload, so a config that passes
// check-config starts. Building sends nothing.
func Build(cfg *config.Config, deps Deps) (map[string]notify.Notifier, error) {
	set, err := template.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	deps.Templates = set
	out := map[string]notify.Notifier{}
	var errs []error
	for _, t := range append(append([]config.Target(nil), cfg.Targets...), config.Target{Name: "log", Type: TypeLog}) {
		if _, ok := out[t.Name]; ok {
			continue // a configured target named log replaces the implicit one
		}
		n, err := New(t, deps)
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
