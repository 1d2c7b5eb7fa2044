package notify

import (
	"errors"
	"fmt"
	"time"
)

// Reasons label delivery failures in metrics and on the timeline.
const (
	ReasonAuth        = "auth"
	ReasonRateLimited = "rate_limited"
	ReasonClient      = "client"
	ReasonServer      = "server"
	ReasonTimeout     = "timeout"
	ReasonNetwork     = "network"
	ReasonBreakerOpen = "breaker_open"
	ReasonConfig      = "config"
)

// DeliveryError is a failed delivery attempt. Temporary failures are
// retried (after RetryAfter when the service asked for it); permanent ones
// go to the dead letters at once.
type DeliveryError struct {
	Temporary  bool
	Reason     string
	StatusCode int
	// RetryAfter is the wait the service asked for (Retry-After), if any.
	RetryAfter time.Duration
	// Err describes the failure. It never contains a secret.
	Err error
}

func (e *DeliveryError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	if e.StatusCode != 0 {
		return fmt.Sprintf("%s (%s, status %d): %v", kind, e.Reason, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", kind, e.Reason, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// AsDeliveryError returns err as a *DeliveryError. An error that is not one
// is treated as a temporary network failure.
func AsDeliveryError(err error) *DeliveryError {
	if err == nil {
		return nil
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	return &DeliveryError{Temporary: true, Reason: ReasonNetwork, Err: err}
}
