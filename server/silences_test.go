package server

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/store"
)

// recordingSilences records the silences created.
type recordingSilences struct {
	Silences
	created []config.Silence
}

func (r *recordingSilences) CreateSilence(_ context.Context, c config.Silence) (*store.Silence, error) {
	r.created = append(r.created, c)
	return &store.Silence{}, nil
}

// A silence longer than server.max_silence_duration (default 30d) is a
// 400; one within it is created.
func TestSilenceDurationCap(t *testing.T) {
	start := testNow.Format(time.RFC3339)
	tests := []struct {
		name     string
		max      time.Duration
		body     string
		wantCode int
		wantErr  string
	}{
		{name: "2h", body: `{"matchers":["service=\"checkout\""],"duration":"2h"}`, wantCode: http.StatusCreated},
		{name: "exactly the default cap", body: `{"matchers":["alertname=~\".+\""],"duration":"720h"}`, wantCode: http.StatusCreated},
		{name: "100000h", body: `{"matchers":["alertname=~\".+\""],"duration":"100000h"}`, wantCode: http.StatusBadRequest,
			wantErr: "invalid silence: it would last 100000h0m0s, longer than server.max_silence_duration (720h0m0s)"},
		{name: "ends_at far away", body: `{"matchers":["alertname=~\".+\""],"ends_at":"2100-01-01T00:00:00Z"}`, wantCode: http.StatusBadRequest,
			wantErr: "invalid silence: it would last 655694h33m7s, longer than server.max_silence_duration (720h0m0s)"},
		{name: "started long ago, counted from now", body: `{"matchers":["a=\"b\""],"starts_at":"2020-01-01T00:00:00Z","ends_at":"2025-03-14T11:26:53Z"}`,
			wantCode: http.StatusCreated},
		{name: "configured cap", max: time.Hour, body: `{"matchers":["a=\"b\""],"starts_at":"` + start + `","duration":"2h"}`,
			wantCode: http.StatusBadRequest, wantErr: "invalid silence: it would last 2h0m0s, longer than server.max_silence_duration (1h0m0s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sil := &recordingSilences{}
			srv, err := New(config.Server{MaxSilenceDuration: config.Duration(tt.max)}, nil, Deps{
				Ingester: &fakeIngester{}, Incidents: &fakeIncidents{}, Actions: &fakeActions{}, Silences: sil,
				Now: func() time.Time { return testNow },
			})
			require.NoError(t, err)
			resp, err := srv.App().Test(newRequest(http.MethodPost, "/api/v1/silences", tt.body), -1)
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			body := string(b)
			require.Equal(t, tt.wantCode, resp.StatusCode, body)
			if tt.wantErr != "" {
				require.Equal(t, tt.wantErr, errorOf(t, body))
				require.Empty(t, sil.created)
			} else {
				require.Len(t, sil.created, 1)
			}
		})
	}
}
