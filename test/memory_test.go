package test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// worstBodies are bodies of about 1 MB (the default max_body_bytes) that
// cost the gateway the most memory per byte (see the adapters'
// BenchmarkDecodeWorstCase).
func worstBodies() map[string]string {
	var labels, alerts strings.Builder
	for i := 0; labels.Len() < 1<<20-64; i++ {
		fmt.Fprintf(&labels, `"l%x":"",`, i)
	}
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&alerts, `{"labels":{"alertname":"Storm","instance":"host-%d:9100","job":"node"}},`, i)
	}
	return map[string]string{
		"empty_alerts": "[" + strings.TrimSuffix(strings.Repeat("{},", 349000), ",") + "]",
		"many_labels":  `[{"labels":{` + strings.TrimSuffix(labels.String(), ",") + `}}]`,
		"max_alerts":   `{"version":"4","status":"firing","alerts":[` + strings.TrimSuffix(alerts.String(), ",") + `]}`,
	}
}

// procStatus reads a size field (kB) of /proc/<pid>/status, in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// postUntilAnswered posts body until the answer is not a 503 (the
// decoding budget was full: the sender retries, as Alertmanager does) and
// returns that answer's code.
func postUntilAnswered(c *child, body string) (int, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, c.url+"/api/v1/alerts/alertmanager", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || attempt == 1000 {
			return resp.StatusCode, nil
		}
		if resp.Header.Get("Retry-After") == "" {
			return 0, fmt.Errorf("503 without Retry-After")
		}
		time.Sleep(10 * time.Millisecond) // a sender's backoff, shortened
	}
}

// Sixteen concurrent worst-case bodies of 1 MB, three rounds of each
// kind, grow the gateway's peak RSS (VmHWM, the kernel's high-water mark:
// no sampling, no timing) by less than 100 MiB with the default limits.
// Before the list pre-scan and the decoding budget, 16 "empty_alerts"
// bodies took it to 3 GB; with max_decoding_bytes at twice the body
// limit (two 10,000-alert bodies stored at once) it reached 180 MiB.
func TestWorstCaseBodiesBoundPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc (Linux)")
	}
	if raceEnabled {
		t.Skip("the race detector multiplies memory use; make test runs it again without -race")
	}
	sk := newSink(t)
	c := startChild(t, writeConfig(t, t.TempDir(), sk.srv.URL+"/hook", ""))
	pid := c.cmd.Process.Pid
	// Warm up with a normal notification, so the baseline includes what
	// the first request initializes.
	code, err := postUntilAnswered(c, `{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"Warm"}}]}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	base := procStatus(t, pid, "VmHWM")

	want := map[string]int{"empty_alerts": http.StatusBadRequest, "many_labels": http.StatusBadRequest, "max_alerts": http.StatusOK}
	for name, body := range worstBodies() {
		for round := range 3 {
			codes := make(chan int, 16)
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					code, err := postUntilAnswered(c, body)
					if err != nil {
						t.Error(err)
					}
					codes <- code
				})
			}
			wg.Wait()
			close(codes)
			for code := range codes {
				require.Equal(t, want[name], code, "%s round %d", name, round)
			}
		}
		t.Logf("%s: peak RSS %d MiB above the baseline", name, (procStatus(t, pid, "VmHWM")-base)>>20)
	}
	peak := procStatus(t, pid, "VmHWM") - base
	t.Logf("baseline %d MiB, peak growth %d MiB, RSS now %d MiB", base>>20, peak>>20, procStatus(t, pid, "VmRSS")>>20)
	require.Less(t, peak, int64(100<<20), "peak RSS growth")
}
