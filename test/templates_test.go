package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A target's words come from the config's template files, and a reload
// reads them again: the next page says what the edited file says.
func TestReloadReadsTheTemplatesAgain(t *testing.T) {
	var mu sync.Mutex
	var summaries []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Kind    string `json:"kind"`
			Summary string `json:"summary"`
		}
		b, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(b, &m))
		if m.Kind == "page" {
			mu.Lock()
			summaries = append(summaries, m.Summary)
			mu.Unlock()
		}
	}))
	t.Cleanup(hook.Close)
	pages := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), summaries...)
	}

	dir := t.TempDir()
	tmpl := filepath.Join(dir, "templates", "ours.tmpl")
	require.NoError(t, os.MkdirAll(filepath.Dir(tmpl), 0o755))
	write := func(title string) {
		require.NoError(t, os.WriteFile(tmpl, []byte(`{{ define "webhook.default.title" }}`+title+`{{ end }}`), 0o600))
	}
	write("v1 {{ .Incident.Key }}")
	path := filepath.Join(dir, "alertgate.yml")
	cfg := strings.Replace(reloadBase, "DB", filepath.Join(dir, "a.db"), 1) + `
templates: [templates/*.tmpl]
targets:
  - { name: hook, type: webhook, url: "` + hook.URL + `" }
roles:
  oncall: { targets: [hook] }
  team-lead: { targets: [hook] }
  eng-manager: { targets: [hook] }
  cto: { targets: [hook] }
`
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	url := startFromFile(t, path)

	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"one","status":"down"}`))
	require.Eventually(t, func() bool { return len(pages()) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "v1 INC-1", pages()[0])

	write("v2 {{ .Incident.Key }} {{ .Incident.Title | toUpper }}")
	require.Equal(t, http.StatusOK, post(t, url+"/-/reload", ``))
	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"two","status":"down"}`))
	require.Eventually(t, func() bool { return len(pages()) == 2 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "v2 INC-2 TWO IS DOWN", pages()[1])

	// A template that does not compile is refused; the running one stays.
	write("{{ .Incident.Key ")
	resp, err := http.Post(url+"/-/reload", "application/json", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Contains(t, string(body), "ours.tmpl")
	require.Equal(t, http.StatusOK, post(t, url+"/api/v1/alerts/probes", `{"check":"three","status":"down"}`))
	require.Eventually(t, func() bool { return len(pages()) == 3 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "v2 INC-3 THREE IS DOWN", pages()[2])
}
