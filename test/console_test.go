package test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The console against a real gateway: an open board hears of a new
// incident within a second of the ingest's 2xx; a person signs in and
// acknowledges, and the timeline names them.
func TestConsoleLiveBoardAndAcknowledge(t *testing.T) {
	sk := newSink(t)
	cfg := strings.Replace(issueConfig, `server: { listen: "127.0.0.1:8080" }`, `server: { listen: "127.0.0.1:8080", api_token: console-token }`, 1)
	base := startRealGateway(t, cfg, sk)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}

	// Not signed in: the board sends to the sign-in page.
	resp, err := client.Get(base + "/?status=open")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/console/signin", resp.Request.URL.Path)

	resp, err = client.PostForm(base+"/console/signin", url.Values{"user": {"alice"}, "password": {"console-token"}, "next": {"/?status=open"}})
	require.NoError(t, err)
	board, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(board), `data-testid="board-empty"`)
	cursor := regexp.MustCompile(`data-cursor="(\d+)"`).FindStringSubmatch(string(board))[1]

	// The board's event stream is open before the alert arrives.
	resp, err = client.Get(base + "/console/events?status=open&since=" + cursor)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(data, `"INC-1"`) {
				events <- data
			}
		}
		close(events)
	}()

	am := newAMNotifier(t, base+"/api/v1/alerts/alertmanager", "s3cret")
	require.NoError(t, am.send(t, amFiring("PaymentsDown", "payments", "critical", time.Now())))
	acked := time.Now()
	select {
	case data := <-events:
		took := time.Since(acked)
		t.Logf("live update reached the board %v after the ingest's 2xx", took)
		require.Less(t, took, time.Second)
		require.Contains(t, data, `id=\"row-INC-1\"`)
	case <-time.After(3 * time.Second):
		t.Fatal("no live update within 3s")
	}

	page := func() string {
		resp, err := client.Get(base + "/incidents/INC-1")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return string(b)
	}
	body := page()
	require.Contains(t, body, `id="action-ack"`)
	require.Contains(t, body, `data-testid="plan-step"`, "what happens next: the escalation ahead")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]

	// Without the CSRF token nothing changes; with it alice acknowledges.
	resp, err = client.PostForm(base+"/incidents/INC-1/ack", url.Values{})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, err = client.PostForm(base+"/incidents/INC-1/ack", url.Values{"csrf": {csrf}, "note": {"on it"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body = page()
	require.Contains(t, body, `data-testid="incident-status">acknowledged<`)
	require.Contains(t, body, `data-testid="incident-acked-by">alice<`)
	require.Regexp(t, `data-kind="acknowledged">.*<span class="actor">alice</span>: acknowledged: on it`, body)
}
