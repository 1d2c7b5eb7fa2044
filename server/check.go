package server

import (
	"net/http"
	"sync"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
	"github.com/alertgate/alertgate/rules"
)

// Check does with a loaded config what starting the gateway does before
// it opens the database: it compiles the rules' expressions and the
// message templates and builds every target. check-config calls it, so a
// config that passes the check starts (the database and the listen
// address aside). It sends nothing.
func Check(cfg *config.Config) error { return CheckWith(cfg, notifier.Default) }

// CheckWith is Check with the target types of targets (a gateway started
// with GatewayOptions.Targets).
func CheckWith(cfg *config.Config, targets *notifier.Registry) error {
	if _, err := rules.New(cfg); err != nil {
		return err
	}
	if err := targets.Check(cfg); err != nil {
		return err
	}
	_, err := targets.Build(cfg, notifier.Deps{Client: &http.Client{}})
	return err
}

// notifierBuilder returns the engine's BuildNotifier: targets.New with
// the template set of the config being built, compiled once per config.
func notifierBuilder(targets *notifier.Registry, deps notifier.Deps) router.BuildNotifier {
	var (
		mu   sync.Mutex
		last *config.Config
		set  *template.Set
	)
	return func(cfg *config.Config, t config.Target) (notify.Notifier, error) {
		mu.Lock()
		if cfg != last {
			s, err := targets.TemplateSet(cfg)
			if err != nil {
				mu.Unlock()
				return nil, err
			}
			last, set = cfg, s
		}
		d := deps
		d.Templates = set
		mu.Unlock()
		return targets.New(t, d)
	}
}
