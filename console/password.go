package console

import (
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/alertgate/alertgate/config"
)

// passwordHash is a console user's password hash: bcrypt ($2a$, $2b$,
// $2y$, as htpasswd -B prints) or argon2id in the PHC string format
// ($argon2id$v=19$m=65536,t=3,p=4$salt$hash, as the argon2 CLI's -e
// prints).
type passwordHash struct {
	bcrypt []byte
	argon  *config.Argon2id
}

func parsePasswordHash(h []byte) (passwordHash, error) {
	if strings.HasPrefix(string(h), "$argon2") {
		a, err := config.ParseArgon2id(string(h))
		return passwordHash{argon: a}, err
	}
	if _, err := bcrypt.Cost(h); err != nil {
		return passwordHash{}, errors.New("not a bcrypt ($2b$…) or argon2id ($argon2id$…) hash")
	}
	return passwordHash{bcrypt: h}, nil
}

// hashing bounds the password hashes computed at once: an argon2id hash
// may ask for up to a GiB of memory (config.ParseArgon2id's bound) and a
// bcrypt one for a quarter second of a core, so sign-in attempts from
// many addresses (each rate-limited on its own) wait their turn instead of
// running all at once — for at most hashWait: a flood of them is answered
// "busy" rather than queued without end.
var hashing = make(chan struct{}, 2)

// hashWait is how long a sign-in waits for a turn to hash.
var hashWait = 5 * time.Second

// errHashBusy says every hashing turn stayed taken for hashWait.
var errHashBusy = errors.New("too many sign-ins being checked")

// matches reports whether password is the hashed one (errHashBusy: not
// checked).
func (h passwordHash) matches(password string) (bool, error) {
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case hashing <- struct{}{}:
	case <-t.C:
		return false, errHashBusy
	}
	defer func() { <-hashing }()
	switch {
	case h.argon != nil:
		a := h.argon
		got := argon2.IDKey([]byte(password), a.Salt, a.Time, a.Memory, a.Threads, uint32(len(a.Hash)))
		return subtle.ConstantTimeCompare(got, a.Hash) == 1, nil
	case h.bcrypt != nil:
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil, nil
	}
	return false, nil
}
