package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
)

// ticketer files tickets numbered from 1.
type ticketer struct {
	notify.Notifier
	n int
}

func (tk *ticketer) Ticket(ctx context.Context, m *notify.Message) (string, error) {
	tk.n++
	return "OPS-" + string(rune('0'+tk.n)), tk.Notify(ctx, m)
}

func TestNewIncidentIsFiledOnceAsTicket(t *testing.T) {
	tk := &ticketer{}
	h := newHarness(t, func(c *config.Config) {
		c.Targets = append(c.Targets, config.Target{Name: "jira", Type: "webhook", Settings: &webhook.Settings{URL: "http://jira.invalid/"}})
		c.Communication.Ticket = &config.Ticket{Target: "jira", Severities: []string{"P0", "P1"}}
	})
	h.wrap = func(name string, n notify.Notifier) notify.Notifier {
		if name == "jira" {
			tk.Notifier = n
			return tk
		}
		return n
	}
	h.restart()
	h.ingest(critical("CheckoutDown", "checkout"))
	got := h.at(0)
	require.Contains(t, got, sent{Target: "jira", Kind: notify.KindTicket, Step: "ticket"})
	inc := incident(t, h, 1)
	require.Equal(t, "OPS-1", inc.Ticket)
	require.Equal(t, []string{"ticket OPS-1"}, timeline(t, h, alert.EventTicket))

	h.at(time.Hour)
	require.Equal(t, 1, tk.n, "filed once")

	// A P3 is not ticketed (severities: P0, P1).
	h.ingest(info("Typo", "web"))
	for _, s := range h.at(time.Hour + time.Minute) {
		require.NotEqual(t, "jira", s.Target)
	}
}
