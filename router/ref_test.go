package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/webhook"
	"github.com/alertgate/alertgate/router/notify"
)

// referencer answers a new reference for a message without one, and
// records the refs it was given.
type referencer struct {
	notify.Notifier
	seen []string
}

func (r *referencer) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	r.seen = append(r.seen, string(m.Kind)+":"+m.Ref)
	if err := r.Notify(ctx, m); err != nil {
		return "", err
	}
	if m.Ref == "" {
		return "sp-" + m.Incident.Key, nil
	}
	return "", nil
}

// A status page keeps its own incident: the first message opens it and
// every later message to that target carries its reference.
func TestReferencerKeepsItsIncident(t *testing.T) {
	rf := &referencer{}
	h := newHarness(t, func(c *config.Config) {
		c.Targets = append(c.Targets, config.Target{Name: "status", Type: "webhook", Settings: &webhook.Settings{URL: "http://status.invalid/"}})
		c.Communication.StatusPage.Targets = []string{"status"}
	})
	h.wrap = func(name string, n notify.Notifier) notify.Notifier {
		if name == "status" {
			rf.Notifier = n
			return rf
		}
		return n
	}
	h.restart()
	h.ingest(critical("CheckoutDown", "checkout"))
	h.at(0)
	h.clk.Advance(time.Minute)
	_, err := h.st.PostUpdate(context.Background(), 1, "alice", "investigating")
	require.NoError(t, err)
	h.at(time.Minute)
	_, err = h.st.Resolve(context.Background(), 1, "alice", "fixed")
	require.NoError(t, err)
	h.at(2 * time.Minute)
	require.Equal(t, []string{"info:", "info:sp-INC-1", "resolve:sp-INC-1"}, rf.seen)
}
