package router

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/clocktest"
)

var (
	linkKey   = []byte("0123456789abcdef0123456789abcdef")
	linkStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
)

func newTestLinks(key []byte) (*AckLinks, *clocktest.Clock) {
	clk := clocktest.New(linkStart)
	return NewAckLinks(key, time.Hour, clk.Now), clk
}

func TestAckLinkRoundTrip(t *testing.T) {
	links, _ := newTestLinks(linkKey)
	for _, tc := range []struct {
		name   string
		id     int64
		action string
	}{
		{"ack", 7, ActionAck},
		{"resolve", 7, ActionResolve},
		{"first incident", 1, ActionAck},
		{"largest id", math.MaxInt64, ActionResolve},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := links.Token(tc.id, tc.action)
			require.LessOrEqual(t, len(token), 100)
			require.Regexp(t, `^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`, token, "URL-safe")
			id, action, err := links.Verify(token)
			require.NoError(t, err)
			require.Equal(t, tc.id, id)
			require.Equal(t, tc.action, action)
		})
	}
}

func TestAckLinkTokensDiffer(t *testing.T) {
	links, _ := newTestLinks(linkKey)
	require.NotEqual(t, links.Token(7, ActionAck), links.Token(7, ActionResolve))
	require.NotEqual(t, links.Token(7, ActionAck), links.Token(8, ActionAck))
}

func TestAckLinkURL(t *testing.T) {
	links, _ := newTestLinks(linkKey)
	token := links.Token(7, ActionAck)
	require.Equal(t, "https://alertgate.example.com/ack/"+token,
		links.URL("https://alertgate.example.com/", 7, ActionAck))
}

func TestAckLinkTamper(t *testing.T) {
	links, _ := newTestLinks(linkKey)
	token := links.Token(7, ActionAck)
	for i := range len(token) {
		for bit := range 8 {
			b := []byte(token)
			b[i] ^= 1 << bit
			_, _, err := links.Verify(string(b))
			require.ErrorIs(t, err, ErrLinkInvalid, "byte %d bit %d: %q", i, bit, b)
		}
	}
}

// TestAckLinkForgedPayload swaps the payload of a valid token for the
// payload of another incident or action, keeping the MAC.
func TestAckLinkForgedPayload(t *testing.T) {
	links, _ := newTestLinks(linkKey)
	mac := strings.SplitN(links.Token(7, ActionAck), ".", 2)[1]
	for _, tc := range []struct {
		name  string
		other string
	}{
		{"other incident", links.Token(8, ActionAck)},
		{"other action", links.Token(7, ActionResolve)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := strings.SplitN(tc.other, ".", 2)[0]
			_, _, err := links.Verify(payload + "." + mac)
			require.ErrorIs(t, err, ErrLinkInvalid)
		})
	}
}

func TestAckLinkWrongKey(t *testing.T) {
	links, _ := newTestLinks(linkKey)
	other, _ := newTestLinks([]byte("another-key-another-key-another!!"))
	_, _, err := other.Verify(links.Token(7, ActionAck))
	require.ErrorIs(t, err, ErrLinkInvalid)
	require.NotErrorIs(t, err, ErrLinkExpired)
}

func TestAckLinkKeyIsCopied(t *testing.T) {
	key := append([]byte(nil), linkKey...)
	links, _ := newTestLinks(key)
	token := links.Token(7, ActionAck)
	key[0] ^= 0xff
	_, _, err := links.Verify(token)
	require.NoError(t, err)
}

func TestAckLinkExpiry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		advance time.Duration
		wantErr error
	}{
		{"fresh", 0, nil},
		{"a second before expiry", time.Hour - time.Second, nil},
		{"at expiry", time.Hour, ErrLinkExpired},
		{"a week later", 7 * 24 * time.Hour, ErrLinkExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			links, clk := newTestLinks(linkKey)
			token := links.Token(7, ActionResolve)
			clk.Advance(tc.advance)
			id, action, err := links.Verify(token)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.NotErrorIs(t, err, ErrLinkInvalid)
				require.Zero(t, id)
				require.Empty(t, action)
				return
			}
			require.NoError(t, err)
			require.Equal(t, int64(7), id)
		})
	}
}

func TestAckLinkDefaultTTL(t *testing.T) {
	clk := clocktest.New(linkStart)
	links := NewAckLinks(linkKey, 0, clk.Now)
	token := links.Token(7, ActionAck)
	clk.Set(linkStart.Add(DefaultAckLinkTTL - time.Second))
	_, _, err := links.Verify(token)
	require.NoError(t, err)
	clk.Set(linkStart.Add(DefaultAckLinkTTL))
	_, _, err = links.Verify(token)
	require.ErrorIs(t, err, ErrLinkExpired)
}

// signed builds a token over an arbitrary payload with the test key, to
// reach the checks that run after the MAC.
func signed(links *AckLinks, payload []byte) string {
	return linkEncoding.EncodeToString(payload) + "." + linkEncoding.EncodeToString(links.mac(payload))
}

func TestAckLinkGarbage(t *testing.T) {
	links, _ := newTestLinks(linkKey)
	valid := links.Token(7, ActionAck)
	payload, mac, _ := strings.Cut(valid, ".")
	raw, err := linkEncoding.DecodeString(payload)
	require.NoError(t, err)
	with := func(i int, b byte) []byte {
		p := append([]byte(nil), raw...)
		p[i] = b
		return p
	}
	zeroID := append([]byte(nil), raw...)
	copy(zeroID[2:10], make([]byte, 8))
	negID := append([]byte(nil), raw...)
	copy(negID[2:10], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})

	for _, tc := range []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"dot", "."},
		{"no dot", payload + mac},
		{"two dots", valid + ".x"},
		{"payload only", payload + "."},
		{"mac only", "." + mac},
		{"padded payload", payload + "==." + mac},
		{"padded mac", payload + "." + base64.URLEncoding.EncodeToString(links.mac(raw))},
		{"standard base64 alphabet", "+/" + valid},
		{"too long", valid + strings.Repeat("A", MaxAckTokenLen)},
		{"short payload", signed(links, raw[:17])},
		{"long payload", signed(links, append(append([]byte(nil), raw...), 0))},
		{"unknown version", signed(links, with(0, 2))},
		{"unknown action", signed(links, with(1, 'x'))},
		{"zero incident", signed(links, zeroID)},
		{"negative incident", signed(links, negID)},
		{"not base64", "not a token at all"},
		{"utf-8", "ИНЦ-7.ключ"},
		{"nul bytes", "\x00\x00.\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, action, err := links.Verify(tc.token)
			require.ErrorIs(t, err, ErrLinkInvalid)
			require.Zero(t, id)
			require.Empty(t, action)
		})
	}
}

func TestAckLinkErrorsHideKey(t *testing.T) {
	links, clk := newTestLinks(linkKey)
	token := links.Token(7, ActionAck)
	clk.Advance(2 * time.Hour)
	_, _, err := links.Verify(token)
	require.Error(t, err)
	require.NotContains(t, err.Error(), string(linkKey))
}

func TestAckLinkPanicsOnMisuse(t *testing.T) {
	require.Panics(t, func() { NewAckLinks(nil, time.Hour, nil) }, "empty key")
	links, _ := newTestLinks(linkKey)
	require.Panics(t, func() { links.Token(7, "acknowledge") }, "unknown action")
}

func FuzzVerify(f *testing.F) {
	links, _ := newTestLinks(linkKey)
	f.Add(links.Token(7, ActionAck))
	f.Add(links.Token(math.MaxInt64, ActionResolve))
	f.Add("")
	f.Add(".")
	f.Add("AQ.AQ")
	f.Add(strings.Repeat("A", MaxAckTokenLen+1))
	f.Fuzz(func(t *testing.T, token string) {
		id, action, err := links.Verify(token)
		if err != nil {
			require.Zero(t, id)
			require.Empty(t, action)
			return
		}
		// Anything accepted must be a token this key signed.
		require.Positive(t, id)
		require.Contains(t, []string{ActionAck, ActionResolve}, action)
		require.Equal(t, links.Token(id, action), token)
	})
}
