package server

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

type fakeDeliveries struct{ asked []string }

func (f *fakeDeliveries) ListDeliveries(_ context.Context, state string, _ int) ([]store.Delivery, error) {
	f.asked = append(f.asked, state)
	return []store.Delivery{}, nil
}

func (f *fakeDeliveries) RetryDelivery(context.Context, int64, string) (*store.Delivery, error) {
	return nil, store.ErrNotFound
}

// The listing names the state it lists, so an empty answer to a bare
// GET reads "no dead letters", not "no deliveries".
func TestListDeliveriesNamesItsState(t *testing.T) {
	d := &fakeDeliveries{}
	srv, err := New(config.Server{}, nil, Deps{Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{},
		NewDecoder: testDecoder, Deliveries: d})
	require.NoError(t, err)
	for path, want := range map[string]string{
		"/api/v1/deliveries":               `{"state":"dead","deliveries":[]}`,
		"/api/v1/deliveries?state=pending": `{"state":"pending","deliveries":[]}`,
	} {
		resp, err := srv.App().Test(newRequest(http.MethodGet, path, ""))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.JSONEq(t, want, string(body), path)
	}
	require.ElementsMatch(t, []string{"dead", "pending"}, d.asked)
}
