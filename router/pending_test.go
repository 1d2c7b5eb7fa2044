package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
)

func TestPendingListsWhatHappensNext(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newH func(mutate func(*config.Config)) *harness) {
		ctx := context.Background()
		h := newH(func(cfg *config.Config) {
			cfg.Roles["team-lead"] = config.Role{Rotation: &config.Rotation{Handoff: "09:00", Shift: config.Duration(7 * 24 * time.Hour),
				Start: "2026-11-23", Members: []config.Member{{Name: "tl-alice", Targets: []string{"pager"}}}}}
		})
		h.ingest(critical("CheckoutDown", "checkout"))
		h.at(0)
		pending := func() []router.PendingStep {
			jobs, err := h.st.Jobs(ctx, 1)
			require.NoError(t, err)
			return h.eng.Pending(jobs)
		}
		steps := pending()
		require.NotEmpty(t, steps)
		var lead *router.PendingStep
		for i := range steps {
			require.NotEqual(t, "announce", steps[i].Type, "the announcement already ran at 0")
			if i > 0 {
				require.False(t, steps[i].DueAt.Before(steps[i-1].DueAt), "due first")
			}
			if steps[i].Role == "team-lead" {
				lead = &steps[i]
			}
		}
		require.NotNil(t, lead, "the team lead's page is pending: %v", steps)
		require.Equal(t, "page", lead.Type)
		require.Equal(t, "tl-alice", lead.Member, "resolved through the rotation at its due time")
		require.Equal(t, []string{"pager"}, lead.Targets)
		require.Equal(t, "acknowledged", lead.StopsOn)
		require.Contains(t, lead.Stops, "acknowledged")

		_, err := h.st.Acknowledge(ctx, 1, "alice", "")
		require.NoError(t, err)
		var keys []string
		for _, s := range pending() {
			require.NotEqual(t, "acknowledged", s.StopsOn, "ack cancelled %s", s.Key)
			keys = append(keys, s.Key)
		}
		// What stops only on resolution is still planned (the steps of an
		// incident's chain that the ack moved on to).
		require.Subset(t, keys, []string{"INC-1/page/eng-manager#0", "INC-1/page/cto#0", "INC-1/sla/resolution"})
	})
}
