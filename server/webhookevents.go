package server

import (
	"context"
	"sync"
	"time"
)

// WebhookEvents remembers the ids of inbound webhook events that were
// applied, so a replayed delivery is refused; the store satisfies it, for
// every replica on the database at once.
type WebhookEvents interface {
	// ClaimWebhookEvent records id until keepUntil and reports whether it
	// was new (false: seen before and not expired).
	ClaimWebhookEvent(ctx context.Context, id string, keepUntil time.Time) (bool, error)
	// ForgetWebhookEvent drops a record whose event was not applied.
	ForgetWebhookEvent(ctx context.Context, id string) error
}

// memoryEvents is the WebhookEvents of a server without a store: one
// process's memory.
type memoryEvents struct {
	now func() time.Time
	mu  sync.Mutex
	ids map[string]time.Time
}

func newMemoryEvents(now func() time.Time) *memoryEvents {
	return &memoryEvents{now: now, ids: map[string]time.Time{}}
}

func (m *memoryEvents) ClaimWebhookEvent(_ context.Context, id string, keepUntil time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, until := range m.ids {
		if until.Before(now) {
			delete(m.ids, k)
		}
	}
	if _, seen := m.ids[id]; seen {
		return false, nil
	}
	m.ids[id] = keepUntil
	return true, nil
}

func (m *memoryEvents) ForgetWebhookEvent(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.ids, id)
	return nil
}
