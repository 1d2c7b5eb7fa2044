package console

import (
	"crypto/subtle"
	"errors"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/alertgate/alertgate/config"
)

// passwordHash is a console user's password hash, parsed and checked by
// config.ParsePasswordHash (the one place that decides between bcrypt and
// argon2id).
type passwordHash config.PasswordHash

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
	case h.Argon2id != nil:
		a := h.Argon2id
		got := argon2.IDKey([]byte(password), a.Salt, a.Time, a.Memory, a.Threads, uint32(len(a.Hash)))
		return subtle.ConstantTimeCompare(got, a.Hash) == 1, nil
	case h.Bcrypt != nil:
		return bcrypt.CompareHashAndPassword(h.Bcrypt, []byte(password)) == nil, nil
	}
	return false, nil
}
