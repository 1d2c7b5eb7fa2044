package server

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

type fakeSeverity struct {
	calls []string
	err   error
}

func (f *fakeSeverity) SetSeverity(_ context.Context, id int64, sev alert.Severity, actor, note string) (*alert.Incident, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.calls = append(f.calls, fmt.Sprintf("%s %s %s %s", alert.IncidentKey(id), sev, actor, note))
	return &alert.Incident{Key: alert.IncidentKey(id), Severity: sev}, nil
}

func TestSetSeverityAPI(t *testing.T) {
	tests := []struct {
		name, path, body string
		auth             bool
		storeErr         error
		code             int
		call             string
	}{
		{name: "lower", path: "INC-3", body: `{"severity":"P2","actor":"alice","note":"staging only"}`, auth: true, code: 200, call: "INC-3 P2 alice staging only"},
		{name: "by name, default actor", path: "3", body: `{"severity":"critical"}`, auth: true, code: 200, call: "INC-3 P0 api "},
		{name: "no token", path: "INC-3", body: `{"severity":"P2"}`, code: 401},
		{name: "bad severity", path: "INC-3", body: `{"severity":"P9"}`, auth: true, code: 400},
		{name: "unknown field", path: "INC-3", body: `{"severity":"P1","sev":"P2"}`, auth: true, code: 400},
		{name: "bad id", path: "INC-x", body: `{"severity":"P1"}`, auth: true, code: 400},
		{name: "not found", path: "INC-9", body: `{"severity":"P1"}`, auth: true, storeErr: store.ErrNotFound, code: 404},
		{name: "resolved", path: "INC-3", body: `{"severity":"P1"}`, auth: true, storeErr: fmt.Errorf("%w: resolved", store.ErrConflict), code: 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeSeverity{err: tt.storeErr}
			srv, err := New(config.Server{APIToken: "tok"}, nil, Deps{Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{},
				NewDecoder: testDecoder, Severity: fs})
			require.NoError(t, err)
			h := &harness{srv: srv}
			var hdr []string
			if tt.auth {
				hdr = []string{"Authorization", "Bearer tok"}
			}
			hdr = append(hdr, "Content-Type", "application/json")
			resp, body := h.do(t, newRequest(http.MethodPost, "/api/v1/incidents/"+tt.path+"/severity", tt.body, hdr...))
			require.Equal(t, tt.code, resp.StatusCode, body)
			if tt.call != "" {
				require.Equal(t, []string{tt.call}, fs.calls)
			} else {
				require.Empty(t, fs.calls)
			}
		})
	}
}
