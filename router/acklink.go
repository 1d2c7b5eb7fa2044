package router

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actions a one-click link can take.
const (
	ActionAck     = "ack"
	ActionResolve = "resolve"
)

// Errors of AckLinks.Verify.
var (
	// ErrLinkInvalid: the token is malformed, forged, signed with another
	// key, or of an unknown version or action.
	ErrLinkInvalid = errors.New("ack link invalid")
	// ErrLinkExpired: the token is authentic but past its expiry.
	ErrLinkExpired = errors.New("ack link expired")
)

// MaxAckTokenLen bounds what Verify decodes; longer input is invalid
// without further work.
const MaxAckTokenLen = 512

// DefaultAckLinkTTL is the lifetime NewAckLinks uses for a ttl <= 0.
const DefaultAckLinkTTL = 24 * time.Hour

// Token layout, version 1: version (1 byte), action (1 byte), incident id
// (8 bytes, big endian), expiry in Unix seconds (8 bytes, big endian).
const (
	linkVersion     = 1
	linkPayloadSize = 1 + 1 + 8 + 8
	actionByteAck   = 'a'
	actionByteRes   = 'r'
)

// linkEncoding is unpadded base64url; Strict rejects non-canonical
// trailing bits, so every payload has exactly one spelling.
var linkEncoding = base64.RawURLEncoding.Strict()

// AckLinks signs and verifies the tokens of one-click acknowledge and
// resolve links. A token names one incident and one action, expires, and
// is base64url(payload) + "." + base64url(HMAC-SHA256(key, payload)), so
// it is safe in a URL path segment. It is a bearer credential for that
// one action on that one incident until it expires.
type AckLinks struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewAckLinks returns a signer with key, issuing tokens valid for ttl
// (DefaultAckLinkTTL when ttl <= 0) from now (time.Now when nil). The key
// is copied; it should be at least 32 random bytes. NewAckLinks panics on
// an empty key, a wiring error that would make every link forgeable.
func NewAckLinks(key []byte, ttl time.Duration, now func() time.Time) *AckLinks {
	if len(key) == 0 {
		panic("router: NewAckLinks with an empty key")
	}
	if ttl <= 0 {
		ttl = DefaultAckLinkTTL
	}
	if now == nil {
		now = time.Now
	}
	return &AckLinks{key: append([]byte(nil), key...), ttl: ttl, now: now}
}

// Token returns a signed token for action (ActionAck or ActionResolve) on
// incidentID, expiring ttl from now. It panics on any other action, a
// programming error.
func (l *AckLinks) Token(incidentID int64, action string) string {
	var p [linkPayloadSize]byte
	p[0] = linkVersion
	switch action {
	case ActionAck:
		p[1] = actionByteAck
	case ActionResolve:
		p[1] = actionByteRes
	default:
		panic(fmt.Sprintf("router: ack link action %q is not %q or %q", action, ActionAck, ActionResolve))
	}
	binary.BigEndian.PutUint64(p[2:10], uint64(incidentID))
	binary.BigEndian.PutUint64(p[10:18], uint64(l.now().Add(l.ttl).Unix()))
	return linkEncoding.EncodeToString(p[:]) + "." + linkEncoding.EncodeToString(l.mac(p[:]))
}

// URL returns the link for action on incidentID under base, the
// gateway's external URL: base + "/ack/" + token.
func (l *AckLinks) URL(base string, incidentID int64, action string) string {
	return strings.TrimRight(base, "/") + "/ack/" + l.Token(incidentID, action)
}

// Verify checks token and returns its incident and action. It fails with
// ErrLinkInvalid for anything not signed by this key (the MAC is compared
// in constant time before the payload is trusted) and with ErrLinkExpired
// for an authentic token at or past its expiry.
func (l *AckLinks) Verify(token string) (incidentID int64, action string, err error) {
	if len(token) > MaxAckTokenLen {
		return 0, "", fmt.Errorf("%w: longer than %d bytes", ErrLinkInvalid, MaxAckTokenLen)
	}
	enc, encMAC, ok := strings.Cut(token, ".")
	if !ok {
		return 0, "", fmt.Errorf("%w: malformed", ErrLinkInvalid)
	}
	payload, err := linkEncoding.DecodeString(enc)
	if err != nil || len(payload) != linkPayloadSize {
		return 0, "", fmt.Errorf("%w: malformed payload", ErrLinkInvalid)
	}
	mac, err := linkEncoding.DecodeString(encMAC)
	if err != nil || !hmac.Equal(mac, l.mac(payload)) {
		return 0, "", fmt.Errorf("%w: bad signature", ErrLinkInvalid)
	}
	if payload[0] != linkVersion {
		return 0, "", fmt.Errorf("%w: unknown version %d", ErrLinkInvalid, payload[0])
	}
	switch payload[1] {
	case actionByteAck:
		action = ActionAck
	case actionByteRes:
		action = ActionResolve
	default:
		return 0, "", fmt.Errorf("%w: unknown action", ErrLinkInvalid)
	}
	incidentID = int64(binary.BigEndian.Uint64(payload[2:10]))
	if incidentID <= 0 {
		return 0, "", fmt.Errorf("%w: incident id %d", ErrLinkInvalid, incidentID)
	}
	expiry := int64(binary.BigEndian.Uint64(payload[10:18]))
	if l.now().Unix() >= expiry {
		return 0, "", fmt.Errorf("%w: at %s", ErrLinkExpired, time.Unix(expiry, 0).UTC().Format(time.RFC3339))
	}
	return incidentID, action, nil
}

func (l *AckLinks) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write(payload)
	return m.Sum(nil)
}
