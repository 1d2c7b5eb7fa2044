// Package console is alertgate's web console: server-rendered pages
// (html/template) with a little plain JavaScript, all embedded in the
// binary (go:embed), served at / by the same fiber app as the API.
//
// The board (/) lists incidents with live SLA clocks; it stays current
// over server-sent events (/console/events): each stream polls the
// store for incidents changed since its cursor every half second and
// pushes the changed rows, rendered by the same template as the page.
//
// Every answer carries a strict Content-Security-Policy (scripts and
// styles from the console's own files only, no inline code), denies
// framing and content sniffing.
package console
