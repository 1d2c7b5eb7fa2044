package notifier_test

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notify"
)

// A target's http_config builds its own client: a service behind a TLS
// certificate of its own CA is reached with that CA, basic auth from the
// file is sent, and the password shows nowhere.
func TestHTTPConfigTLSWithItsOwnCA(t *testing.T) {
	var (
		mu   sync.Mutex
		auth []string
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "password"), []byte(secretText), 0o600))

	file := `targets:
  - name: own-ca
    type: webhook
    url: ` + srv.URL + `/hook
    http_config:
      tls_config: { ca_file: ca.pem }
      basic_auth: { username: alertgate, password_file: password }
  - { name: shared, type: webhook, url: "` + srv.URL + `/hook" }
`
	log, logs := notifiertest.ObservedLogger()
	c, err := load(t, filepath.Join(dir, "alertgate.yml"), file)
	require.NoError(t, err)
	ns, err := notifier.Build(c, notifier.Deps{Client: &http.Client{}, Logger: log})
	require.NoError(t, err)

	require.NoError(t, ns["own-ca"].Notify(context.Background(), notifiertest.Message(notify.KindPage)))
	mu.Lock()
	require.Len(t, auth, 1)
	require.True(t, strings.HasPrefix(auth[0], "Basic "), "basic auth from http_config: %q", auth[0])
	mu.Unlock()

	err = ns["shared"].Notify(context.Background(), notifiertest.Message(notify.KindPage))
	require.Error(t, err, "the shared client does not trust the target's CA")
	de := notify.AsDeliveryError(err)
	require.True(t, de.Temporary)
	require.Equal(t, notify.ReasonNetwork, de.Reason)
	require.Contains(t, err.Error(), "certificate")

	out, err := config.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), secretText)
	require.Contains(t, string(out), "password_file:")
	require.NotContains(t, notifiertest.LogText(t, logs), secretText)
}

func TestHTTPConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, httpConfig, want string }{
		{"missing CA file", `{ tls_config: { ca_file: nope.pem } }`, `alertgate.yml:5: targets[0] (hook): unable to read CA cert`},
		{"bad proxy", `{ proxy_url: "::nope" }`, `alertgate.yml:5: targets[0].http_config.proxy_url: http_config: parse`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "targets:\n  - name: hook\n    type: webhook\n    url: https://x.example/\n    http_config: " + tt.httpConfig + "\n"
			c, err := load(t, filepath.Join(dir, "alertgate.yml"), file)
			if err == nil {
				_, err = notifier.Build(c, notifier.Deps{Client: &http.Client{}})
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}
