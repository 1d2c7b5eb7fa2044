package email_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notifier/email"
	"github.com/alertgate/alertgate/router/notify"
	"github.com/alertgate/alertgate/router/template"
)

const testPassword = "hunter2-very-secret"

// session is what the fake server saw in one mail transaction.
type session struct {
	auth string
	from string
	rcpt []string
	data string
}

// fakeSMTP speaks just enough SMTP (RFC 5321) by hand: EHLO (optionally
// advertising STARTTLS it never performs), AUTH PLAIN, MAIL, RCPT, DATA,
// QUIT. replies overrides the answer to a verb.
type fakeSMTP struct {
	port     int
	starttls bool
	replies  map[string]string
	got      chan session
}

func newFakeSMTP(t *testing.T, starttls bool, replies map[string]string) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	f := &fakeSMTP{port: ln.Addr().(*net.TCPAddr).Port, starttls: starttls, replies: replies, got: make(chan session, 1)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return f
}

func (f *fakeSMTP) reply(verb, def string) string {
	if r, ok := f.replies[verb]; ok {
		return r
	}
	return def
}

func (f *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(s string) { _, _ = fmt.Fprintf(conn, "%s\r\n", s) }
	say("220 fake.example ESMTP")
	var s session
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := "250-fake.example\r\n250-AUTH PLAIN\r\n"
			if f.starttls {
				ext += "250-STARTTLS\r\n"
			}
			say(ext + "250 SIZE 10240000")
		case "AUTH":
			s.auth = arg
			say(f.reply("AUTH", "235 2.7.0 ok"))
		case "MAIL":
			s.from = arg
			say(f.reply("MAIL", "250 2.1.0 ok"))
		case "RCPT":
			s.rcpt = append(s.rcpt, arg)
			say(f.reply("RCPT", "250 2.1.5 ok"))
		case "DATA":
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			s.data = data.String()
			say(f.reply("DATA", "250 2.0.0 queued"))
			f.got <- s
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 5.5.2 not implemented")
		}
	}
}

func newNotifier(t *testing.T, f *fakeSMTP, insecure bool) *email.Notifier {
	t.Helper()
	n, err := email.New(email.Config{
		SMTP: email.SMTP{
			Host: "127.0.0.1", Port: f.port,
			Username: "alertgate", Password: config.Secret(testPassword),
			From: "Alertgate <alerts@example.com>", To: []string{"oncall@example.com", "Lead <lead@example.com>"},
			Insecure: insecure,
		},
		Timeout: 5 * time.Second,
		Version: "1.2.3",
	}, nil, func() time.Time { return testNow })
	require.NoError(t, err)
	return n
}

func TestNotifyDelivers(t *testing.T) {
	f := newFakeSMTP(t, false, nil)
	m := page()
	m.Text = "line one\n.leading dot survives"
	require.NoError(t, newNotifier(t, f, true).Notify(context.Background(), m))

	s := <-f.got
	plain, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.auth, "PLAIN "))
	require.NoError(t, err)
	require.Equal(t, "\x00alertgate\x00"+testPassword, string(plain))
	require.Equal(t, "FROM:<alerts@example.com>", s.from)
	require.Equal(t, []string{"TO:<oncall@example.com>", "TO:<lead@example.com>"}, s.rcpt)

	want, err := email.Compose(m, template.Rendered{Title: m.Summary, Text: m.Text}, "Alertgate <alerts@example.com>", []string{"oncall@example.com", "Lead <lead@example.com>"}, testNow)
	require.NoError(t, err)
	require.Equal(t, "X-Mailer: alertgate/1.2.3\r\n"+string(want), s.data)
	require.Contains(t, parse(t, []byte(s.data)).parts["text/plain"], "\n.leading dot survives")
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name      string
		starttls  bool
		insecure  bool
		replies   map[string]string
		temporary bool
		reason    string
		status    int
	}{
		{name: "451 on MAIL is temporary", insecure: true, replies: map[string]string{"MAIL": "451 4.3.0 try again later"},
			temporary: true, reason: notify.ReasonServer, status: 451},
		{name: "550 on RCPT is permanent", insecure: true, replies: map[string]string{"RCPT": "550 5.1.1 no such user"},
			reason: notify.ReasonClient, status: 550},
		{name: "552 after DATA is permanent", insecure: true, replies: map[string]string{"DATA": "552 5.3.4 too big"},
			reason: notify.ReasonClient, status: 552},
		{name: "535 on AUTH is auth", insecure: true, replies: map[string]string{"AUTH": "535 5.7.8 bad credentials " + testPassword},
			reason: notify.ReasonAuth, status: 535},
		{name: "no STARTTLS is config", reason: notify.ReasonConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSMTP(t, tt.starttls, tt.replies)
			err := newNotifier(t, f, tt.insecure).Notify(context.Background(), page())
			var de *notify.DeliveryError
			require.ErrorAs(t, err, &de)
			require.Equal(t, tt.temporary, de.Temporary)
			require.Equal(t, tt.reason, de.Reason)
			require.Equal(t, tt.status, de.StatusCode)
			require.NotContains(t, err.Error(), testPassword)
			require.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString([]byte("\x00alertgate\x00"+testPassword)))
		})
	}
}

func TestNotifyNetworkErrors(t *testing.T) {
	t.Run("connection refused is temporary network", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		require.NoError(t, ln.Close())
		n, err := email.New(email.Config{SMTP: email.SMTP{Host: "127.0.0.1", Port: port,
			From: "a@example.com", To: []string{"b@example.com"}, Insecure: true}}, nil, nil)
		require.NoError(t, err)
		err = n.Notify(context.Background(), page())
		var de *notify.DeliveryError
		require.ErrorAs(t, err, &de)
		require.True(t, de.Temporary)
		require.Equal(t, notify.ReasonNetwork, de.Reason)
	})
	t.Run("silent server times out", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err == nil {
				defer c.Close()
				_, _ = c.Read(make([]byte, 1)) // never greets; returns when the client gives up
			}
		}()
		n, err := email.New(email.Config{SMTP: email.SMTP{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
			From: "a@example.com", To: []string{"b@example.com"}, Insecure: true}, Timeout: 50 * time.Millisecond}, nil, nil)
		require.NoError(t, err)
		err = n.Notify(context.Background(), page())
		var de *notify.DeliveryError
		require.ErrorAs(t, err, &de)
		require.True(t, de.Temporary)
		require.Equal(t, notify.ReasonTimeout, de.Reason)
		require.True(t, errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout"), err.Error())
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := email.SMTP{Host: "smtp.example.com", Port: 587, From: "a@example.com", To: []string{"b@example.com"}}
	tests := []struct {
		name string
		edit func(*email.SMTP)
	}{
		{name: "no host", edit: func(s *email.SMTP) { s.Host = "" }},
		{name: "bad port", edit: func(s *email.SMTP) { s.Port = 0 }},
		{name: "bad from", edit: func(s *email.SMTP) { s.From = "nope" }},
		{name: "no to", edit: func(s *email.SMTP) { s.To = nil }},
		{name: "bad to", edit: func(s *email.SMTP) { s.To = []string{"x"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.edit(&s)
			_, err := email.New(email.Config{SMTP: s}, nil, nil)
			require.Error(t, err)
		})
	}
	_, err := email.New(email.Config{SMTP: good}, nil, nil)
	require.NoError(t, err, strconv.Quote("good config"))
}
