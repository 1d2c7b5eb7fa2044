// Package lognotifier writes messages to the zap log instead of sending
// them anywhere. It is the default target, so a gateway with no accounts
// configured still shows every page in its log. The one-click ack link is
// a credential: the line says that one was issued, never the link.
//
// The directory and package are named lognotifier, not log, so importing
// it never shadows the standard library's log package.
package lognotifier
