package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router"
	"github.com/alertgate/alertgate/store"
)

type mounterFunc func(r fiber.Router)

func (f mounterFunc) Register(r fiber.Router) { f(r) }

func TestPlanAndConsoleRoutes(t *testing.T) {
	due := testNow.Add(15 * time.Minute)
	var asked int64
	inc := &fakeIncidents{detail: &store.IncidentDetail{Incident: alert.Incident{ID: 7, Key: "INC-7", Status: alert.IncidentTriggered}}}
	srv, err := New(config.Server{}, nil, Deps{
		Ingester: &fakeIngester{}, Incidents: inc, Actions: &fakeActions{}, NewDecoder: testDecoder,
		Now: func() time.Time { return testNow },
		Plan: func(_ context.Context, id int64) ([]router.PendingStep, error) {
			asked = id
			return []router.PendingStep{{Key: "INC-7/page/team-lead#0", Type: "page", State: "pending", DueAt: due, Role: "team-lead",
				Targets: []string{"pager"}, StopsOn: "acknowledged", Stops: "cancelled once the incident is acknowledged"}}, nil
		},
		Console: mounterFunc(func(r fiber.Router) {
			r.Get("/", func(c *fiber.Ctx) error { return c.SendString("console") })
		}),
	})
	require.NoError(t, err)
	h := &harness{srv: srv}

	resp, body := h.do(t, newRequest(http.MethodGet, "/api/v1/incidents/INC-7/plan", ""))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, int64(7), asked)
	require.JSONEq(t, `{"incident":"INC-7","status":"triggered","at":"`+testNow.UTC().Format(time.RFC3339Nano)+`","steps":[
		{"key":"INC-7/page/team-lead#0","type":"page","state":"pending","due_at":"`+due.Format(time.RFC3339Nano)+`","role":"team-lead",
		 "targets":["pager"],"stops_on":"acknowledged","stops":"cancelled once the incident is acknowledged"}]}`, body)

	inc.err = store.ErrNotFound
	resp, _ = h.do(t, newRequest(http.MethodGet, "/api/v1/incidents/INC-9/plan", ""))
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = h.do(t, newRequest(http.MethodGet, "/api/v1/incidents/nope/plan", ""))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	resp, body = h.do(t, newRequest(http.MethodGet, "/", ""))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "console", body)
}
