package console

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Limits of an argon2id hash's parameters: a typo (m=6553600) must not
// make each sign-in allocate gigabytes.
const (
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 20
	maxArgonThreads   = 64
)

// passwordHash is a console user's password hash: bcrypt ($2a$, $2b$,
// $2y$, as htpasswd -B prints) or argon2id in the PHC string format
// ($argon2id$v=19$m=65536,t=3,p=4$salt$hash, as the argon2 CLI's -e
// prints).
type passwordHash struct {
	bcrypt []byte
	argon  *argonHash
}

type argonHash struct {
	memory     uint32
	time       uint32
	threads    uint8
	salt, hash []byte
}

// ParsePasswordHash checks a console user's password hash.
func ParsePasswordHash(h string) error {
	_, err := parsePasswordHash([]byte(h))
	return err
}

func parsePasswordHash(h []byte) (passwordHash, error) {
	if strings.HasPrefix(string(h), "$argon2") {
		a, err := parseArgon2id(string(h))
		return passwordHash{argon: a}, err
	}
	if _, err := bcrypt.Cost(h); err != nil {
		return passwordHash{}, errors.New("not a bcrypt ($2b$…) or argon2id ($argon2id$…) hash")
	}
	return passwordHash{bcrypt: h}, nil
}

func parseArgon2id(s string) (*argonHash, error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, errors.New("an argon2 hash must be argon2id: $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[2] != "v=19" {
		return nil, fmt.Errorf("argon2id version %q: want v=19", parts[2])
	}
	a := &argonHash{}
	var p uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.memory, &a.time, &p); err != nil {
		return nil, fmt.Errorf("argon2id parameters %q: want m=…,t=…,p=…", parts[3])
	}
	switch {
	case a.memory < 8 || a.memory > maxArgonMemoryKiB:
		return nil, fmt.Errorf("argon2id memory m=%d: want 8 to %d KiB", a.memory, maxArgonMemoryKiB)
	case a.time < 1 || a.time > maxArgonTime:
		return nil, fmt.Errorf("argon2id time t=%d: want 1 to %d", a.time, maxArgonTime)
	case p < 1 || p > maxArgonThreads:
		return nil, fmt.Errorf("argon2id parallelism p=%d: want 1 to %d", p, maxArgonThreads)
	}
	a.threads = uint8(p)
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(a.salt) < 8 {
		return nil, errors.New("argon2id salt: want at least 8 bytes in unpadded base64")
	}
	if a.hash, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(a.hash) < 16 || len(a.hash) > 64 {
		return nil, errors.New("argon2id hash: want 16 to 64 bytes in unpadded base64")
	}
	return a, nil
}

// matches reports whether password is the hashed one.
func (h passwordHash) matches(password string) bool {
	switch {
	case h.argon != nil:
		a := h.argon
		got := argon2.IDKey([]byte(password), a.salt, a.time, a.memory, a.threads, uint32(len(a.hash)))
		return subtle.ConstantTimeCompare(got, a.hash) == 1
	case h.bcrypt != nil:
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil
	}
	return false
}
