package notifier_test

import (
	"context"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notifier/lognotifier"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/pagerduty"
	"github.com/alertgate/alertgate/router/notifier/slack"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
)

const (
	slackURL   = "https://hooks.slack.com/services/T0/B0/SLACKTOKEN0123"
	routingKey = "ROUTINGKEY0123456789"
)

func TestNewBuildsEachType(t *testing.T) {
	client, _ := notifiertest.MockClient()
	deps := notifier.Deps{Client: client, Now: notifiertest.Clock, Version: "1.2.3"}
	tests := []struct {
		name   string
		target config.Target
		want   notify.Notifier
	}{
		{name: "log", target: config.Target{Name: "stdout", Type: "log"}, want: &lognotifier.Notifier{}},
		{name: "webhook", target: config.Target{Name: "hook", Type: "webhook", Settings: &webhook.Settings{URL: "https://example.com/hook"}}, want: &webhook.Notifier{}},
		{name: "slack", target: config.Target{Name: "chat", Type: "slack", Settings: &slack.Settings{URL: slackURL}}, want: &slack.Notifier{}},
		{name: "pagerduty", target: config.Target{Name: "pd", Type: "pagerduty", Settings: &pagerduty.Settings{RoutingKey: routingKey}}, want: &pagerduty.Notifier{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := notifier.New(tt.target, deps)
			require.NoError(t, err)
			require.IsType(t, tt.want, n)
		})
	}
}

func TestNewErrors(t *testing.T) {
	client, _ := notifiertest.MockClient()
	tests := []struct {
		name   string
		target config.Target
		deps   notifier.Deps
		want   string
	}{
		{name: "unknown type", target: config.Target{Name: "x", Type: "carrier-pigeon"}, deps: notifier.Deps{Client: client}, want: `target "x": unknown type "carrier-pigeon"`},
		{name: "http target without client", target: config.Target{Name: "pd", Type: "pagerduty", Settings: &pagerduty.Settings{RoutingKey: routingKey}}, want: `target "pd": no http client`},
		{name: "slack bad url", target: config.Target{Name: "chat", Type: "slack", Settings: &slack.Settings{URL: "hooks.slack.com/services/T0/B0/SLACKTOKEN0123"}}, deps: notifier.Deps{Client: client}, want: `target "chat": slack: invalid url`},
		{name: "pagerduty without key", target: config.Target{Name: "pd", Type: "pagerduty"}, deps: notifier.Deps{Client: client}, want: `target "pd": pagerduty: routing key missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := notifier.New(tt.target, tt.deps)
			require.Nil(t, n)
			require.ErrorContains(t, err, tt.want)
			notifiertest.RequireNoSecrets(t, err.Error(), "SLACKTOKEN0123", routingKey)
		})
	}
}

// TestNewWiresConfig checks that the target's settings reach the request.
func TestNewWiresConfig(t *testing.T) {
	client, rec, _ := notifiertest.RecordPost("https://example.com/hook", httpmock.NewStringResponder(200, ""))
	log, logs := notifiertest.ObservedLogger()
	n, err := notifier.New(config.Target{
		Name: "hook", Type: "webhook", Settings: &webhook.Settings{URL: "https://example.com/hook", Secret: "SIGNSECRET0123",
			Headers: map[string]string{"X-Api-Key": "APIKEY0123"}}, Timeout: config.Duration(time.Second),
	}, notifier.Deps{Client: client, Logger: log, Now: notifiertest.Clock, Version: "1.2.3"})
	require.NoError(t, err)

	require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))

	require.Equal(t, "alertgate/1.2.3", rec.Request.Header.Get("User-Agent"))
	require.Equal(t, "APIKEY0123", rec.Request.Header.Get("X-Api-Key"))
	require.NoError(t, webhook.Verify([]byte("SIGNSECRET0123"), rec.Request.Header.Get(webhook.HeaderTimestamp),
		rec.Request.Header.Get(webhook.HeaderSignature), rec.Body, notifiertest.Now, time.Minute))
	require.Zero(t, logs.Len(), "a delivery is logged once, by the engine")

	// What a notifier does log (here a message kind it skips) goes to the
	// logger the target was built with.
	pd, err := notifier.New(config.Target{Name: "pd", Type: "pagerduty", Settings: &pagerduty.Settings{RoutingKey: routingKey}},
		notifier.Deps{Client: client, Logger: log, Now: notifiertest.Clock})
	require.NoError(t, err)
	require.NoError(t, pd.Notify(context.Background(), notifiertest.Message(notify.KindInfo)))
	entries := logs.All()
	require.Len(t, entries, 1)
	require.Equal(t, "notifier", entries[0].LoggerName)
	require.Equal(t, "pd", entries[0].ContextMap()["target"])
	notifiertest.RequireNoSecrets(t, notifiertest.LogText(t, logs), "SIGNSECRET0123", "APIKEY0123", routingKey)
}

func TestBuild(t *testing.T) {
	client, _ := notifiertest.MockClient()
	t.Run("every target, the built-in log included", func(t *testing.T) {
		cfg := &config.Config{Targets: []config.Target{
			{Name: "chat", Type: "slack", Settings: &slack.Settings{URL: slackURL}, Title: "{{ .Incident.Key }}"},
			{Name: "hook", Type: "webhook", Settings: &webhook.Settings{URL: "https://example.com/hook"}},
		}}
		cfg.ApplyDefaults()
		ns, err := notifier.Build(cfg, notifier.Deps{Client: client})
		require.NoError(t, err)
		require.Len(t, ns, 3)
		require.IsType(t, &lognotifier.Notifier{}, ns["log"])
	})
	t.Run("every error at once", func(t *testing.T) {
		cfg := &config.Config{Targets: []config.Target{
			{Name: "chat", Type: "slack", Settings: &slack.Settings{URL: slackURL}, Text: "{{ .Nope }}"},
			{Name: "pd", Type: "pagerduty"},
			{Name: "hook", Type: "webhook", Settings: &webhook.Settings{URL: "https://example.com/hook"}, HTML: "<p>"},
		}}
		_, err := notifier.Build(cfg, notifier.Deps{Client: client})
		require.ErrorContains(t, err, `target "chat": rendering a page message: text:`)
		require.ErrorContains(t, err, `target "pd": pagerduty: routing key missing`)
		require.ErrorContains(t, err, `target "hook": html: webhook targets have no html part`)
	})
	t.Run("a glob that matches nothing", func(t *testing.T) {
		_, err := notifier.Build(&config.Config{Templates: []string{"/nonexistent/*.tmpl"}}, notifier.Deps{Client: client})
		require.ErrorContains(t, err, "no file matches")
	})
}
