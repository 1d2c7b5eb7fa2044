package lognotifier_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/lognotifier"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
)

func TestNotifyLogsOneLine(t *testing.T) {
	tests := []struct {
		name string
		kind notify.MessageKind
		edit func(*notify.Message)
		want map[string]any
	}{
		{
			name: "page",
			kind: notify.KindPage,
			want: map[string]any{
				"incident": "INC-7", "severity": "P0", "status": "triggered",
				"title": "checkout: error rate 12% > 5%", "kind": "page", "step": "oncall#0", "role": "oncall",
				"summary":      "[P0] INC-7 checkout: error rate 12% > 5%",
				"ack_link":     "issued",
				"incident_url": "https://alertgate.example.com/api/v1/incidents/INC-7",
			},
		},
		{
			name: "channel info without links",
			kind: notify.KindInfo,
			edit: func(m *notify.Message) {
				m.Role, m.Channel, m.Step, m.AckURL, m.IncidentURL = "", "#incidents", "open:#incidents", "", ""
			},
			want: map[string]any{
				"incident": "INC-7", "severity": "P0", "status": "triggered",
				"title": "checkout: error rate 12% > 5%", "kind": "info", "step": "open:#incidents",
				"channel": "#incidents", "summary": "[P0] INC-7 checkout: error rate 12% > 5%",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := notifiertest.ObservedLogger()
			n, err := lognotifier.New(log, nil)
			require.NoError(t, err)
			m := notifiertest.Message(tt.kind)
			if tt.edit != nil {
				tt.edit(m)
			}

			require.NoError(t, n.Notify(context.Background(), m))

			entries := logs.All()
			require.Len(t, entries, 1)
			require.Equal(t, zapcore.InfoLevel, entries[0].Level)
			require.Equal(t, string(tt.kind), entries[0].Message)
			require.Equal(t, tt.want, entries[0].ContextMap())
		})
	}
}

// The one-click link is a credential: neither the line's fields nor a
// target template that names .AckURL print it.
func TestNotifyNeverLogsTheAckLink(t *testing.T) {
	const token = "eyJpbmMiOjcsImFjdCI6ImFjayJ9.c2lnbmF0dXJlLW9mLXRoZS1saW5r"
	tmpl, err := template.Default().Target(config.Target{Name: "log", Type: "log", Title: "{{ .Incident.Key }} ack: {{ .AckURL }}"})
	require.NoError(t, err)
	log, logs := notifiertest.ObservedLogger()
	n, err := lognotifier.New(log, tmpl)
	require.NoError(t, err)
	m := notifiertest.Message(notify.KindPage)
	m.AckURL = "https://alertgate.example.com/ack/" + token

	require.NoError(t, n.Notify(context.Background(), m))

	require.Equal(t, 1, logs.Len())
	require.Equal(t, "issued", logs.All()[0].ContextMap()["ack_link"])
	require.Equal(t, "INC-7 ack:", logs.All()[0].ContextMap()["summary"])
	require.NotContains(t, notifiertest.LogText(t, logs), token)
	require.Contains(t, m.AckURL, token, "the caller's message is left alone")
}

func TestNilLoggerDiscards(t *testing.T) {
	n, err := lognotifier.New(nil, nil)
	require.NoError(t, err)
	require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))
}

// countingTemplates counts the messages it renders.
type countingTemplates struct{ n int }

func (c *countingTemplates) ApplyLogged(m *notify.Message, _ *zap.Logger) (*notify.Message, notify.Rendered) {
	c.n++
	return m, notify.Rendered{}
}

// At a log level that drops info lines (log.level: warn) a log target
// renders nothing: its line would be thrown away.
func TestNotifyRendersOnlyWhatIsLogged(t *testing.T) {
	for _, tt := range []struct {
		level   zapcore.Level
		renders int
	}{{zapcore.InfoLevel, 1}, {zapcore.WarnLevel, 0}} {
		t.Run(tt.level.String(), func(t *testing.T) {
			core, logs := observer.New(tt.level)
			tmpl := &countingTemplates{}
			n, err := lognotifier.New(zap.New(core), tmpl)
			require.NoError(t, err)
			require.NoError(t, n.Notify(context.Background(), notifiertest.Message(notify.KindPage)))
			require.Equal(t, tt.renders, tmpl.n)
			require.Equal(t, tt.renders, logs.Len())
		})
	}
}
