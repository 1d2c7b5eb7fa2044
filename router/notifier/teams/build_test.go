package teams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
	"github.com/alertgate/alertgate/router/notifier/notifiertest"
	"github.com/alertgate/alertgate/router/notifier/teams"
	"github.com/alertgate/alertgate/router/notify"
)

func card(p teams.Payload) teams.Card { return p.Attachments[0].Content }

func TestBuildTitleColor(t *testing.T) {
	tests := []struct {
		name   string
		kind   notify.MessageKind
		status alert.IncidentStatus
		want   string
	}{
		{name: "page on triggered", kind: notify.KindPage, status: alert.IncidentTriggered, want: teams.ColorAttention},
		{name: "info on triggered", kind: notify.KindInfo, status: alert.IncidentTriggered, want: teams.ColorAttention},
		{name: "info on acknowledged", kind: notify.KindInfo, status: alert.IncidentAcknowledged, want: teams.ColorWarning},
		{name: "info on resolved", kind: notify.KindInfo, status: alert.IncidentResolved, want: teams.ColorGood},
		{name: "acknowledge", kind: notify.KindAcknowledge, status: alert.IncidentAcknowledged, want: teams.ColorWarning},
		{name: "resolve", kind: notify.KindResolve, status: alert.IncidentResolved, want: teams.ColorGood},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := message(tt.kind)
			m.Incident.Status = tt.status
			head := card(teams.Build(m)).Body[0]
			require.Equal(t, "TextBlock", head.Type)
			require.Equal(t, "heading", head.Style)
			require.Equal(t, tt.want, head.Color)
		})
	}
}

func TestBuildActions(t *testing.T) {
	tests := []struct {
		name   string
		kind   notify.MessageKind
		status alert.IncidentStatus
		ackURL string
		want   []string
	}{
		{name: "page", kind: notify.KindPage, status: alert.IncidentTriggered, ackURL: "https://a/ack", want: []string{"Acknowledge", "View incident", "Runbook"}},
		{name: "info on triggered", kind: notify.KindInfo, status: alert.IncidentTriggered, ackURL: "https://a/ack", want: []string{"Acknowledge", "View incident", "Runbook"}},
		{name: "info on acknowledged", kind: notify.KindInfo, status: alert.IncidentAcknowledged, ackURL: "https://a/ack", want: []string{"View incident", "Runbook"}},
		{name: "page without ack url", kind: notify.KindPage, status: alert.IncidentTriggered, want: []string{"View incident", "Runbook"}},
		{name: "page with unusable ack url", kind: notify.KindPage, status: alert.IncidentTriggered, ackURL: "javascript:alert(1)", want: []string{"View incident", "Runbook"}},
		{name: "acknowledge", kind: notify.KindAcknowledge, status: alert.IncidentAcknowledged, ackURL: "https://a/ack", want: []string{"View incident"}},
		{name: "resolve", kind: notify.KindResolve, status: alert.IncidentResolved, ackURL: "https://a/ack", want: []string{"View incident"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := message(tt.kind)
			m.Incident.Status, m.AckURL = tt.status, tt.ackURL
			var titles []string
			for _, a := range card(teams.Build(m)).Actions {
				require.Equal(t, "Action.OpenUrl", a.Type)
				titles = append(titles, a.Title)
			}
			require.Equal(t, tt.want, titles)
		})
	}
}

func TestBuildFollowUpLine(t *testing.T) {
	tests := []struct {
		name string
		kind notify.MessageKind
		edit func(*alert.Incident)
		want []string // the title and, if any, the line below it
	}{
		{
			name: "acknowledged by nobody in particular",
			kind: notify.KindAcknowledge,
			edit: func(i *alert.Incident) { i.Status = alert.IncidentAcknowledged },
			want: []string{"Acknowledged: P0 INC-7: checkout: error rate 12% > 5%"},
		},
		{
			name: "resolved automatically",
			kind: notify.KindResolve,
			edit: func(i *alert.Incident) {
				i.Status, i.ResolvedAt = alert.IncidentResolved, i.OpenedAt.Add(90*time.Second)
			},
			want: []string{"Resolved: P0 INC-7: checkout: error rate 12% > 5%", "Resolved after 1m30s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := message(tt.kind)
			tt.edit(&m.Incident)
			var got []string
			for _, el := range card(teams.Build(m)).Body {
				if el.Type != "TextBlock" || strings.HasPrefix(el.Text, "Error rate") {
					continue
				}
				got = append(got, el.Text)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestBuildAlertList(t *testing.T) {
	m := message(notify.KindPage)
	m.Alerts = nil
	for i := range 25 {
		m.Alerts = append(m.Alerts, notify.AlertSummary{
			Status: alert.StatusFiring, Title: fmt.Sprintf("Alert%d", i), Description: "pod crashlooping",
		})
	}
	var list string
	for _, el := range card(teams.Build(m)).Body {
		if strings.HasPrefix(el.Text, "- ") {
			list = el.Text
		}
	}
	lines := strings.Split(list, "\n")
	require.Len(t, lines, 21)
	require.Equal(t, "- firing Alert0: pod crashlooping", lines[0])
	require.Equal(t, "- … and 5 more", lines[20])
}

func TestBuildTruncates(t *testing.T) {
	m := message(notify.KindPage)
	m.Incident.Title = strings.Repeat("t", 500)
	m.Text = strings.Repeat("ü", 5000)
	m.Runbook.Steps = []string{strings.Repeat("r", 1000)}

	body := card(teams.Build(m)).Body

	require.Equal(t, 300, utf8.RuneCountInString(body[0].Text))
	require.True(t, strings.HasSuffix(body[0].Text, "…"))
	require.Equal(t, 4000, utf8.RuneCountInString(body[2].Text))
	require.Equal(t, "Monospace", body[len(body)-1].FontType)
	require.Equal(t, 300, utf8.RuneCountInString(body[len(body)-1].Text))
}

// huge returns a message whose every field is far too large for Teams,
// with control characters and invalid UTF-8 (which JSON escapes to six
// bytes each).
func huge(k notify.MessageKind) *notify.Message {
	m := message(k)
	big := func(n int) string { return strings.Repeat("\x01ü\xff<", n) }
	m.Incident.Title, m.Incident.Service, m.Incident.Category = big(5000), big(5000), big(5000)
	m.Incident.AcknowledgedBy, m.Incident.ResolvedBy = big(5000), big(5000)
	m.Role, m.Step, m.Channel, m.Text = big(5000), big(5000), big(5000), big(20000)
	m.AckURL = "https://alertgate.example.com/ack?sig=" + strings.Repeat("a", 2000)
	m.IncidentURL = "https://alertgate.example.com/i?x=" + strings.Repeat(`"`, 2000)
	m.Runbook = &notify.Runbook{Title: big(5000), URL: "https://rb.example.com/" + strings.Repeat("ü", 1000)}
	for range 500 {
		m.Runbook.Steps = append(m.Runbook.Steps, big(500))
		m.Alerts = append(m.Alerts, notify.AlertSummary{Status: alert.StatusFiring, Title: big(500), Description: big(500)})
	}
	return m
}

func TestBuildFitsTeamsLimit(t *testing.T) {
	tests := []struct {
		name string
		msg  *notify.Message
	}{
		{name: "page with 500 non-ascii alerts", msg: func() *notify.Message {
			m := message(notify.KindPage)
			for i := range 500 {
				m.Alerts = append(m.Alerts, notify.AlertSummary{Status: alert.StatusFiring, Title: fmt.Sprintf("KubePodCrashLooping %d", i), Description: strings.Repeat("€", 280)})
			}
			m.Text = strings.Repeat("€", 30000) // 3 bytes each
			return m
		}()},
		{name: "huge page", msg: huge(notify.KindPage)},
		{name: "huge info", msg: huge(notify.KindInfo)},
		{name: "huge acknowledge", msg: huge(notify.KindAcknowledge)},
		{name: "huge resolve", msg: huge(notify.KindResolve)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, rec, _ := notifiertest.RecordPost(hookURL, httpmock.NewStringResponder(202, ""))
			require.NoError(t, newNotifier(t, client, 0).Notify(context.Background(), tt.msg))
			require.LessOrEqual(t, len(rec.Body), teams.MaxBodyBytes)
			require.True(t, json.Valid(rec.Body))

			p := teams.Build(tt.msg)
			require.NotEmpty(t, card(p).Body)
			require.Equal(t, "TextBlock", card(p).Body[0].Type)
			require.NotEmpty(t, card(p).Actions, "buttons survive shortening")
		})
	}
}

func TestBuildKeepsSmallMessagesWhole(t *testing.T) {
	m := message(notify.KindPage)
	m.Text = strings.Repeat("x", 3999)
	body := card(teams.Build(m)).Body
	require.Equal(t, m.Text, body[2].Text)
}

// message is the shared test message without a rendered title, so that
// the card's own heading shows.
func message(k notify.MessageKind) *notify.Message {
	m := notifiertest.Message(k)
	m.Summary = ""
	return m
}
