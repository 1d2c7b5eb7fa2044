// Package notify is what every notifier shares, and all that the
// router/notifier/<type> packages import of alertgate's delivery side:
// the Message a target is sent, the Notifier interface, the DeliveryError
// that carries retryability, the HTTP endpoint that posts to a service
// (timeouts, Retry-After, secret-safe errors, http_config), one Truncate,
// and the Descriptor each target type exports. It imports neither router
// nor config's users, so a notifier package never pulls in the engine.
package notify
