package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Signature headers, set when the target has a secret.
const (
	HeaderTimestamp = "X-Alertgate-Timestamp"
	HeaderSignature = "X-Alertgate-Signature"
)

// Verification errors.
var (
	ErrBadSignature = errors.New("webhook signature mismatch")
	ErrStale        = errors.New("webhook timestamp outside the allowed window")
)

const signaturePrefix = "sha256="

// Sign returns the X-Alertgate-Signature value for body sent at timestamp
// (Unix seconds): "sha256=" + hex(HMAC-SHA256(secret, "<timestamp>.<body>")).
func Sign(secret []byte, timestamp int64, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

// Verify checks a received webhook: signature is X-Alertgate-Signature,
// timestamp X-Alertgate-Timestamp, body the raw bytes. It returns ErrStale
// when the timestamp is more than maxSkew away from now (replays) and
// ErrBadSignature when the MAC does not match.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, maxSkew time.Duration) error {
	timestamp = strings.TrimSpace(timestamp)
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return ErrStale
	}
	got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(signature), signaturePrefix))
	if err != nil || !hmac.Equal(got, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
