package test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// scrape reads the gateway's /metrics.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// gauge is the value of the family's series with the labels want (a
// subset of its labels); -1 when there is none.
func gauge(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

// TestFreshGatewayExportsEveryDocumentedMetric scrapes a gateway that has
// seen no alert and finds every metric the README's list names, so a
// dashboard or alert rule never waits for a first event to find its
// series.
func TestFreshGatewayExportsEveryDocumentedMetric(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	start := strings.Index(string(readme), "Metrics include ")
	require.NotEqual(t, -1, start, "the README lists the metrics in a paragraph that starts with 'Metrics include'")
	para, _, _ := strings.Cut(string(readme)[start:], "\n\n")
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(alertgate_[a-z_]+)").FindAllStringSubmatch(para, -1) {
		documented[m[1]] = true
	}
	require.Greater(t, len(documented), 20, "the metrics list was found")

	mfs := scrape(t, startGateway(t, issueConfig, newSink(t)).url)
	var missing []string
	for name := range documented {
		if mfs[name] == nil {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "documented in the README but not exported by a fresh gateway")
}

// TestProcessMetrics checks the build, config and open-incident gauges.
func TestProcessMetrics(t *testing.T) {
	sk := newSink(t)
	g := startGateway(t, issueConfig, sk)
	mfs := scrape(t, g.url)
	require.Equal(t, 1.0, gauge(mfs, "alertgate_build_info", map[string]string{"version": "test"}))
	require.Greater(t, gauge(mfs, "alertgate_config_hash", nil), 0.0)
	require.Equal(t, float64(g.clk.Now().Unix()), gauge(mfs, "alertgate_config_last_reload_success_timestamp_seconds", nil))
	require.Equal(t, 0.0, gauge(mfs, "alertgate_incidents_open", map[string]string{"severity": "P0", "status": "triggered"}))

	am := newAMNotifier(t, g.url+"/api/v1/alerts/alertmanager", "s3cret")
	require.NoError(t, am.send(t, amFiring("CheckoutDown", "checkout", "critical", time.Now())))
	mfs = scrape(t, g.url)
	require.Equal(t, 1.0, gauge(mfs, "alertgate_incidents_open", map[string]string{"severity": "P0", "status": "triggered"}))
	require.Equal(t, 0.0, gauge(mfs, "alertgate_incidents_open", map[string]string{"severity": "P0", "status": "acknowledged"}))
}

// TestReloadUpdatesConfigMetrics checks that a reload with a changed file
// changes alertgate_config_hash and records its time, and that a rejected
// one changes neither.
func TestReloadUpdatesConfigMetrics(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alertgate.yml")
	base := strings.Replace(reloadBase, "DB", filepath.Join(dir, "a.db"), 1)
	require.NoError(t, os.WriteFile(path, []byte(base), 0o600))
	url := startFromFile(t, path)
	const hash, at = "alertgate_config_hash", "alertgate_config_last_reload_success_timestamp_seconds"
	first := scrape(t, url)
	require.Greater(t, gauge(first, hash, nil), 0.0)
	require.Greater(t, gauge(first, at, nil), 0.0)

	require.NoError(t, os.WriteFile(path, []byte(base+`
rules:
  - { name: probes-low, match: ['source_type="healthcheck"'], severity: P3 }
`), 0o600))
	require.Equal(t, http.StatusOK, post(t, url+"/-/reload", ``))
	second := scrape(t, url)
	require.NotEqual(t, gauge(first, hash, nil), gauge(second, hash, nil), "a changed config has another hash")
	require.GreaterOrEqual(t, gauge(second, at, nil), gauge(first, at, nil))

	require.NoError(t, os.WriteFile(path, []byte(base+"\nrules: [{ name: bad, severity: P9 }]\n"), 0o600))
	require.Equal(t, http.StatusInternalServerError, post(t, url+"/-/reload", ``))
	third := scrape(t, url)
	require.Equal(t, gauge(second, hash, nil), gauge(third, hash, nil), "a rejected config changes nothing")
	require.Equal(t, gauge(second, at, nil), gauge(third, at, nil))
	require.Equal(t, 0.0, gauge(third, "alertgate_config_last_reload_successful", nil))
}
