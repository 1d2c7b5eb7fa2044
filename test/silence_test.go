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

// Issue 12: a silence created after an incident opened quiets it. The
// On-Call repeat due while it lasts is held, not sent; expiring the
// silence while the incident is open and unacknowledged sends it once.
func TestSilenceQuietsAnOpenIncident(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	a := amFiring("DeployTestDown", "deploytest", "critical", time.Now().Add(-time.Minute))
	require.NoError(t, am.send(t, a))
	require.Equal(t, []string{"oncall#0"}, waitPages(t, sk, 1))

	g.advance(t, time.Minute)
	resp, err := http.Post(g.url+"/api/v1/silences", "application/json", strings.NewReader(
		`{"matchers":["service=\"deploytest\""],"duration":"2h","created_by":"alice","comment":"deploy"}`))
	require.NoError(t, err)
	var sil struct{ ID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sil))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	g.advance(t, 4*time.Minute) // 5m: the On-Call repeat is due
	require.NoError(t, am.send(t, a), "Alertmanager's repeat_interval")
	g.advance(t, 5*time.Minute) // 10m: it would repeat again
	require.Equal(t, []string{"oncall#0"}, sk.pages(), "silenced: the repeats are held")

	type detail struct {
		Suppressed *struct{ By string } `json:"suppressed"`
		Held       []string             `json:"held"`
		Timeline   []struct {
			Kind   string `json:"kind"`
			Detail string `json:"detail"`
		} `json:"timeline"`
	}
	count := func(d detail, kind string) (n int, last string) {
		for _, e := range d.Timeline {
			if e.Kind == kind {
				n, last = n+1, e.Detail
			}
		}
		return n, last
	}
	var d detail
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/incidents/INC-1", &d))
	require.NotNil(t, d.Suppressed)
	require.Equal(t, "silence:"+sil.ID, d.Suppressed.By)
	require.Equal(t, []string{"page/oncall#1"}, d.Held)
	n, last := count(d, "suppressed")
	require.Equal(t, 1, n)
	require.Contains(t, last, "suppressed by silence "+sil.ID)

	// Expired early while the incident is open and unacknowledged: the
	// held page is sent once, at once.
	require.Equal(t, http.StatusOK, del(t, g.url+"/api/v1/silences/"+sil.ID))
	require.Equal(t, []string{"oncall#0", "oncall#1"}, waitPages(t, sk, 2))
	d = detail{}
	require.Equal(t, http.StatusOK, getJSON(t, g.url+"/api/v1/incidents/INC-1", &d))
	require.Nil(t, d.Suppressed)
	require.Empty(t, d.Held)
	n, last = count(d, "unsuppressed")
	require.Equal(t, 1, n)
	require.Equal(t, "no longer suppressed by silence "+sil.ID+": 1 held step(s) due now (page/oncall#1)", last)
	g.advance(t, 4*time.Minute)
	require.Equal(t, []string{"oncall#0", "oncall#1"}, sk.pages(), "one page for the missed repeats")
	g.advance(t, time.Minute) // 15m: the Team Lead is due as well
	require.ElementsMatch(t, []string{"oncall#0", "oncall#1", "oncall#2", "team-lead#0"}, waitPages(t, sk, 4),
		"repeats resume from the release; the matrix keeps its times")
}
