// Package router runs the durable work of incidents: it plans escalation
// per the matrix when an incident opens, is acknowledged or resolves; runs
// each step when it falls due (checking the incident's state in the same
// transaction, so nothing pages after an ack, and holding a page while
// every firing alert of the incident is silenced or in a maintenance
// window); and delivers messages to
// targets, each behind its own circuit breaker, with retries that honour
// Retry-After, a fallback target, and a dead-letter state.
//
// Notifiers for each target type live in router/notifier/<type>; they
// implement notify.Notifier and import the delivery contract from the leaf
// package router/notify (Message, Notifier, DeliveryError and the reasons),
// which the router uses by that name too; neither imports the router.
package router
