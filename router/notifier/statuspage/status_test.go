package statuspage_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/statuspage"
	"github.com/alertgate/alertgate/router/notify"
)

// statusCases adds Statuspage's own 420 to the shared mapping.
func statusCases(okStatus int) []notifiertest.StatusCase {
	str := httpmock.NewStringResponder
	return append(notifiertest.HTTPStatusCases(okStatus, created),
		notifiertest.StatusCase{
			Name:      "420 rate limited",
			Responder: str(420, `{"error":"Rate limited"}`),
			Temporary: true, Reason: notify.ReasonRateLimited, Status: 420,
		},
		notifiertest.StatusCase{
			Name:      "420 retry-after seconds",
			Responder: str(420, "").HeaderSet(http.Header{"Retry-After": {"7"}}),
			Temporary: true, Reason: notify.ReasonRateLimited, Status: 420, Wait: 7 * time.Second,
		},
		notifiertest.StatusCase{
			Name:      "429 without retry-after",
			Responder: str(429, `{"error":"Rate limited"}`),
			Temporary: true, Reason: notify.ReasonRateLimited, Status: 429,
		},
	)
}

func TestStatusCodes(t *testing.T) {
	ops := []struct {
		name     string
		kind     notify.MessageKind
		ref      string
		okStatus int
	}{
		{name: "create", kind: notify.KindPage, okStatus: http.StatusCreated},
		{name: "update", kind: notify.KindInfo, ref: ref, okStatus: http.StatusOK},
		{name: "resolve", kind: notify.KindResolve, ref: ref, okStatus: http.StatusOK},
	}
	for _, op := range ops {
		for _, c := range statusCases(op.okStatus) {
			t.Run(op.name+"/"+c.Name, func(t *testing.T) {
				n, _, _ := setup(t, statuspage.Config{Timeout: c.AttemptTimeout()}, nil, c.Responder)
				m := notifiertest.Message(op.kind)
				m.Ref = op.ref
				err := n.Notify(context.Background(), m)
				notifiertest.RequireStatus(t, c, err)
			})
		}
	}
}

func TestNoSecretLeak(t *testing.T) {
	for _, status := range []int{400, 401, 420, 429, 500} {
		for _, kind := range []notify.MessageKind{notify.KindPage, notify.KindResolve} {
			t.Run(http.StatusText(status)+"/"+string(kind), func(t *testing.T) {
				log, logs := notifiertest.ObservedLogger()
				n, _, _ := setup(t, statuspage.Config{}, log, notifiertest.EchoResponder(status))
				m := notifiertest.Message(kind)
				if kind == notify.KindResolve {
					m.Ref = ref
				}
				_, err := n.Deliver(context.Background(), m)
				require.Error(t, err)
				require.Contains(t, err.Error(), "<secret>", "the echo should have been scrubbed")
				notifiertest.RequireNoSecrets(t, err.Error()+notifiertest.LogText(t, logs), apiKey)
			})
		}
	}
}

func TestNew(t *testing.T) {
	client, _ := notifiertest.MockClient()
	cases := []struct {
		name    string
		cfg     statuspage.Config
		client  *http.Client
		wantErr string
	}{
		{name: "no api key", cfg: statuspage.Config{PageID: pageID}, client: client, wantErr: "api key"},
		{name: "api key with spaces", cfg: statuspage.Config{APIKey: " " + apiKey, PageID: pageID}, client: client, wantErr: "api key"},
		{name: "no page id", cfg: statuspage.Config{APIKey: apiKey}, client: client, wantErr: "page id"},
		{name: "empty component id", cfg: statuspage.Config{APIKey: apiKey, PageID: pageID, ComponentIDs: []string{"a", ""}}, client: client, wantErr: "component id 1"},
		{name: "bad url", cfg: statuspage.Config{APIKey: apiKey, PageID: pageID, URL: "ftp://x"}, client: client, wantErr: "statuspage: invalid url"},
		{name: "nil client", cfg: statuspage.Config{APIKey: apiKey, PageID: pageID}, wantErr: "nil http client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := statuspage.New(c.cfg, c.client, nil, nil)
			require.ErrorContains(t, err, c.wantErr)
			require.NotContains(t, err.Error(), apiKey)
		})
	}
}
