// Package template renders the human text of messages — titles, texts
// and e-mail HTML — with Go templates, the Alertmanager way: the defaults
// live in the embedded default.tmpl ({{define "slack.default.title"}} …),
// a config's templates: files may add or redefine definitions, and every
// target may override its title and text (and, for e-mail, its html) with
// a template string of its own. The function names are Alertmanager's
// where they apply (toUpper, join, reReplaceAll, humanizeDuration …).
//
// Templates see a Data: the notify.Message plus helpers that format times
// in the configured time zone (escalation.digests.time_zone).
package template
