// Package email sends incident messages over SMTP (net/smtp): one mail per
// message, to every configured recipient in one transaction. Every kind is
// sent, so email works both as a paging target and as a channel.
//
// # Transport
//
// Port 465 is implicit TLS (RFC 8314); any other port upgrades with
// STARTTLS when the server offers it. A server without STARTTLS is a
// permanent config error unless insecure is set. With a username, AUTH
// PLAIN is used (net/smtp refuses PLAIN over plain text except to
// localhost: a permanent config error). One attempt, dial to QUIT, is
// bounded by Config.Timeout.
//
// # Errors
//
// SMTP 4xx replies are temporary (reason server); 5xx are permanent
// (reason auth for 530, 534 and 535, client otherwise); timeouts and
// network failures are temporary (timeout, network); an untrusted server
// certificate is a permanent config error. The password never appears in
// errors or logs.
//
// # Message and threading
//
// Compose renders a multipart/alternative mail: a text/plain and an
// HTML part (html/template-escaped, with an Acknowledge link button on
// pages of an unacknowledged incident), quoted-printable, CRLF line
// endings, subject = Message.Summary (Q-encoded when not ASCII). The
// output is deterministic for the same message and clock.
//
// Message-ID is <sha256(IdempotencyKey)[:32]@alertgate>, so a retry (say,
// after the connection dropped before the server confirmed DATA) carries
// the same id and receivers can drop the duplicate. Every message of an
// incident, the first page included, has In-Reply-To and References set
// to the virtual thread root <sha256(DedupKey)[:32].thread@alertgate>: no
// mail carries that id itself, but clients threading by References
// (Thunderbird, Apple Mail, Outlook, Gmail together with the subject)
// gather the page, acknowledgement and resolution into one conversation.
// Auto-Submitted: auto-generated keeps vacation responders quiet, and
// X-Alertgate-Incident and X-Alertgate-Kind allow mail filters.
package email
