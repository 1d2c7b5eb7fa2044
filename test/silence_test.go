package test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func del(t *testing.T, url string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSilenceThroughTheAPI(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")

	resp, err := http.Post(g.url+"/api/v1/silences", "application/json", strings.NewReader(
		`{"matchers":["service=\"checkout\""],"duration":"2h","created_by":"alice","comment":"deploy"}`))
	require.NoError(t, err)
	var sil struct{ ID, State string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sil))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "active", sil.State)
	require.Equal(t, http.StatusBadRequest, post(t, g.url+"/api/v1/silences", `{"matchers":["service=~\"(\""],"duration":"1h","created_by":"a"}`))

	require.NoError(t, am.send(t, amFiring("CheckoutDown", "checkout", "critical", time.Now())))
	var sup struct {
		Alerts []struct {
			Fingerprint  string `json:"fingerprint"`
			SuppressedBy string `json:"suppressed_by"`
		} `json:"alerts"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/alerts?state=suppressed", &sup))
	require.Len(t, sup.Alerts, 1)
	require.Equal(t, "silence:"+sil.ID, sup.Alerts[0].SuppressedBy)
	g.advance(t, time.Minute)
	require.Empty(t, sk.pages(), "silenced: no page")

	// Expiring the silence while the alert fires pages at once.
	require.Equal(t, http.StatusOK, del(t, g.url+"/api/v1/silences/"+sil.ID))
	require.Equal(t, []string{"oncall#0"}, waitPages(t, sk, 1))
	require.Equal(t, http.StatusNotFound, del(t, g.url+"/api/v1/silences/nope"))
}
