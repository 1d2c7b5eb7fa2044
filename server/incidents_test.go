package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

func sevPtr(s alert.Severity) *alert.Severity { return &s }

func TestListIncidents(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		storeErr   error
		wantCode   int
		wantErr    string
		wantFilter store.IncidentFilter
	}{
		{name: "no filter", wantCode: http.StatusOK},
		{name: "status", query: "?status=acknowledged", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Status: alert.IncidentAcknowledged}},
		{name: "status any case", query: "?status=Triggered", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Status: alert.IncidentTriggered}},
		{name: "severity level", query: "?severity=P1", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Severity: sevPtr(alert.P1)}},
		{name: "severity name", query: "?severity=critical", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Severity: sevPtr(alert.P0)}},
		{name: "limit", query: "?limit=1000&status=resolved", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Status: alert.IncidentResolved, Limit: 1000}},
		{name: "open is triggered or acknowledged", query: "?status=open", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Open: true}},
		{name: "bad status", query: "?status=closed", wantCode: http.StatusBadRequest, wantErr: `invalid status "closed" (want open, triggered, acknowledged or resolved)`},
		{name: "service", query: "?service=checkout", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Service: "checkout"}},
		{name: "free text", query: "?q=Latency&status=open", wantCode: http.StatusOK, wantFilter: store.IncidentFilter{Text: "Latency", Open: true}},
		{name: "unknown parameter", query: "?servce=checkout", wantCode: http.StatusBadRequest,
			wantErr: `unknown query parameter "servce" (want status, severity, service, q, limit)`},
		{name: "service too long", query: "?service=" + strings.Repeat("x", 201), wantCode: http.StatusBadRequest, wantErr: "service must be valid UTF-8 of at most 200 bytes"},
		{name: "q not UTF-8", query: "?q=%ff", wantCode: http.StatusBadRequest, wantErr: "q must be valid UTF-8 of at most 200 bytes"},
		{name: "bad severity", query: "?severity=P9", wantCode: http.StatusBadRequest, wantErr: `severity: unknown severity "P9" (want P0, P1, P2 or P3)`},
		{name: "limit zero", query: "?limit=0", wantCode: http.StatusBadRequest, wantErr: `invalid limit "0" (want 1 to 1000)`},
		{name: "limit too big", query: "?limit=1001", wantCode: http.StatusBadRequest, wantErr: `invalid limit "1001" (want 1 to 1000)`},
		{name: "limit not a number", query: "?limit=ten", wantCode: http.StatusBadRequest, wantErr: `invalid limit "ten" (want 1 to 1000)`},
		{name: "storage unavailable", storeErr: store.ErrUnavailable, wantCode: http.StatusServiceUnavailable, wantErr: "storage unavailable, retry later"},
		{name: "storage failure", storeErr: errors.New("disk I/O error"), wantCode: http.StatusInternalServerError, wantErr: "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Server{})
			h.inc.list = []alert.Incident{{ID: 7, Key: "INC-7", Severity: alert.P1, Status: alert.IncidentTriggered, Title: "Checkout latency"}}
			h.inc.err = tt.storeErr
			resp, body := h.do(t, newRequest(http.MethodGet, "/api/v1/incidents"+tt.query, ""))
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			if tt.wantErr != "" {
				require.Equal(t, tt.wantErr, errorOf(t, body))
				return
			}
			require.Equal(t, tt.wantFilter, h.inc.lastFilter)
			require.Contains(t, body, `"id":"INC-7"`)
			require.Contains(t, body, `"severity":"P1"`)
		})
	}
}

func TestListIncidentsEmptyIsList(t *testing.T) {
	h := newHarness(t, config.Server{})
	resp, body := h.do(t, newRequest(http.MethodGet, "/api/v1/incidents", ""))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"incidents":[]}`, body)
}

func TestGetIncident(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		storeErr error
		wantCode int
		wantErr  string
		wantID   int64
	}{
		{name: "key", id: "INC-7", wantCode: http.StatusOK, wantID: 7},
		{name: "key lower case", id: "inc-7", wantCode: http.StatusOK, wantID: 7},
		{name: "number", id: "7", wantCode: http.StatusOK, wantID: 7},
		{name: "not an id", id: "seven", wantCode: http.StatusBadRequest, wantErr: `invalid incident id "seven" (want INC-7 or 7)`},
		{name: "zero", id: "INC-0", wantCode: http.StatusBadRequest, wantErr: `invalid incident id "INC-0" (want INC-7 or 7)`},
		{name: "not found", id: "INC-8", storeErr: fmt.Errorf("incident 8: %w", store.ErrNotFound), wantCode: http.StatusNotFound, wantErr: "incident INC-8 not found"},
		{name: "storage unavailable", id: "8", storeErr: store.ErrUnavailable, wantCode: http.StatusServiceUnavailable, wantErr: "storage unavailable, retry later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Server{})
			h.inc.detail = &store.IncidentDetail{
				Incident: alert.Incident{ID: 7, Key: "INC-7", Status: alert.IncidentTriggered},
				Timeline: []alert.Event{{Kind: alert.EventDetected, Actor: "alertgate"}},
			}
			h.inc.err = tt.storeErr
			resp, body := h.do(t, newRequest(http.MethodGet, "/api/v1/incidents/"+tt.id, ""))
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			if tt.wantErr != "" {
				require.Equal(t, tt.wantErr, errorOf(t, body))
				return
			}
			require.Equal(t, tt.wantID, h.inc.lastID)
			require.Contains(t, body, `"incident":{"id":"INC-7"`)
			require.Contains(t, body, `"kind":"detected"`)
		})
	}
}

func TestIncidentActions(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		body      string
		storeErr  error
		wantCode  int
		wantErr   string
		wantCall  actionCall
		wantState string
	}{
		{name: "ack without body", path: "/api/v1/incidents/INC-3/ack", wantCode: http.StatusOK, wantCall: actionCall{verb: "ack", id: 3, actor: "api"}, wantState: "acknowledged"},
		{name: "ack with actor and note", path: "/api/v1/incidents/3/ack", body: `{"actor":" alice ","note":"looking"}`, wantCode: http.StatusOK, wantCall: actionCall{verb: "ack", id: 3, actor: "alice", note: "looking"}, wantState: "acknowledged"},
		{name: "resolve", path: "/api/v1/incidents/INC-4/resolve", body: `{"actor":"bob","note":"rolled back"}`, wantCode: http.StatusOK, wantCall: actionCall{verb: "resolve", id: 4, actor: "bob", note: "rolled back"}, wantState: "resolved"},
		{name: "empty actor defaults", path: "/api/v1/incidents/5/resolve", body: `{"actor":""}`, wantCode: http.StatusOK, wantCall: actionCall{verb: "resolve", id: 5, actor: "api"}, wantState: "resolved"},
		{name: "bad id", path: "/api/v1/incidents/x/ack", wantCode: http.StatusBadRequest, wantErr: `invalid incident id "x" (want INC-7 or 7)`},
		{name: "bad JSON", path: "/api/v1/incidents/3/ack", body: `{"actor":`, wantCode: http.StatusBadRequest, wantErr: "invalid JSON body: unexpected EOF"},
		{name: "unknown field", path: "/api/v1/incidents/3/ack", body: `{"who":"alice"}`, wantCode: http.StatusBadRequest, wantErr: `invalid JSON body: json: unknown field "who"`},
		{name: "trailing data", path: "/api/v1/incidents/3/ack", body: `{} {}`, wantCode: http.StatusBadRequest, wantErr: "invalid JSON body: trailing data"},
		{name: "actor too long", path: "/api/v1/incidents/3/ack", body: `{"actor":"` + strings.Repeat("a", 201) + `"}`, wantCode: http.StatusBadRequest, wantErr: "actor longer than 200 characters"},
		{name: "note too long", path: "/api/v1/incidents/3/ack", body: `{"note":"` + strings.Repeat("n", 10001) + `"}`, wantCode: http.StatusBadRequest, wantErr: "note longer than 10000 bytes"},
		{
			name: "ack a resolved incident", path: "/api/v1/incidents/3/ack", storeErr: fmt.Errorf("%w: incident is resolved", store.ErrConflict),
			wantCode: http.StatusConflict, wantErr: "acknowledge INC-3: conflict: incident is resolved",
		},
		{name: "not found", path: "/api/v1/incidents/3/resolve", storeErr: store.ErrNotFound, wantCode: http.StatusNotFound, wantErr: "incident INC-3 not found"},
		{name: "storage unavailable", path: "/api/v1/incidents/3/resolve", storeErr: store.ErrUnavailable, wantCode: http.StatusServiceUnavailable, wantErr: "storage unavailable, retry later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, config.Server{})
			h.act.err = tt.storeErr
			resp, body := h.do(t, newRequest(http.MethodPost, tt.path, tt.body))
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			if tt.wantErr != "" {
				require.Equal(t, tt.wantErr, errorOf(t, body))
				return
			}
			require.Equal(t, []actionCall{tt.wantCall}, h.act.calls)
			require.Contains(t, body, `"status":"`+tt.wantState+`"`)
		})
	}
}
