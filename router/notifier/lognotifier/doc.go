// Package lognotifier writes messages to the zap log instead of sending
// them anywhere. It is the default target, so a gateway with no accounts
// configured still shows every page (with its one-click ack link) in its
// log.
//
// The directory and package are named lognotifier, not log, so importing
// it never shadows the standard library's log package.
package lognotifier
