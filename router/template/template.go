package template

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"go.uber.org/zap"

	"github.com/alertgate/alertgate/config"
	"github.com/alertgate/alertgate/router/notify"
)

//go:embed default.tmpl
var defaultTmpl string

// Set is a compiled template set: default.tmpl, then the config's files.
// It is safe for concurrent use.
type Set struct {
	text *texttemplate.Template
	html *htmltemplate.Template
	loc  *time.Location
}

// New parses default.tmpl, then typeDefaults (the default templates of
// target types that bring their own, notify.Descriptor.Templates), then
// every file matching globs (in order, so a file may redefine a default);
// times print in timeZone (an IANA name; "" is UTC). A glob that matches
// no file is an error.
func New(globs []string, timeZone string, typeDefaults ...string) (*Set, error) {
	loc := time.UTC
	if timeZone != "" {
		var err error
		if loc, err = time.LoadLocation(timeZone); err != nil {
			return nil, fmt.Errorf("time zone %q: %w", timeZone, err)
		}
	}
	s := &Set{
		text: texttemplate.New("").Option("missingkey=zero").Funcs(Funcs),
		html: htmltemplate.New("").Option("missingkey=zero").Funcs(Funcs),
		loc:  loc,
	}
	if err := s.parse("default.tmpl", defaultTmpl); err != nil {
		return nil, err
	}
	var errs []error
	for i, src := range typeDefaults {
		errs = append(errs, s.parse(fmt.Sprintf("type-defaults-%d", i), src))
	}
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			errs = append(errs, fmt.Errorf("templates %q: %w", g, err))
			continue
		}
		if len(files) == 0 {
			errs = append(errs, fmt.Errorf("templates %q: no file matches", g))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("templates: %w", err))
				continue
			}
			errs = append(errs, s.parse(f, string(b)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Set) parse(name, src string) error {
	if _, err := s.text.New(name).Parse(src); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if _, err := s.html.New(name).Parse(src); err != nil {
		return fmt.Errorf("templates (html): %w", err)
	}
	return nil
}

// FromConfig is New with the config's templates and time zone
// (escalation.digests.time_zone, the one time zone of the config).
func FromConfig(cfg *config.Config, typeDefaults ...string) (*Set, error) {
	return New(cfg.Templates, cfg.Escalation.Digests.TimeZone, typeDefaults...)
}

var defaultSet = sync.OnceValue(func() *Set {
	s, err := New(nil, "")
	if err != nil {
		panic(fmt.Sprintf("default.tmpl: %v", err)) // embedded; a test parses it
	}
	return s
})

// Default returns the set of default.tmpl alone, times in UTC.
func Default() *Set { return defaultSet() }

// DefaultTarget returns the default templates of a target type.
func DefaultTarget(typ string) *Target {
	t, err := Default().Target(config.Target{Type: typ})
	if err != nil {
		panic(fmt.Sprintf("default templates of %q: %v", typ, err)) // a test renders every type
	}
	return t
}

// Target is one target's compiled title, text and (e-mail) html.
type Target struct {
	title, text *texttemplate.Template
	html        *htmltemplate.Template
	loc         *time.Location
	// fallback renders a message whose override failed: the type's
	// defaults. nil when t is the defaults.
	fallback *Target
}

// Target compiles tc's title, text and html (the type's defaults where
// tc gives none) and renders them once for sample messages of every kind,
// so that a template that would fail at send time fails here.
func (s *Set) Target(tc config.Target) (*Target, error) {
	if tc.Type == "" || s.text.Lookup(tc.Type+".default.title") == nil || s.text.Lookup(tc.Type+".default.text") == nil {
		return nil, fmt.Errorf("templates: no default templates for type %q", tc.Type)
	}
	// A type has an html part when its defaults define one (e-mail).
	hasHTML := s.html.Lookup(tc.Type+".default.html") != nil
	if tc.HTML != "" && !hasHTML {
		return nil, fmt.Errorf("html: %s targets have no html part (only e-mail has one)", tc.Type)
	}
	def := func(part string) string { return `{{ template "` + tc.Type + `.default.` + part + `" . }}` }
	t := &Target{loc: s.loc}
	var errs []error
	var err error
	if t.title, err = s.compileText("title", or(tc.Title, def("title"))); err != nil {
		errs = append(errs, fmt.Errorf("title: %w", err))
	}
	if t.text, err = s.compileText("text", or(tc.Text, def("text"))); err != nil {
		errs = append(errs, fmt.Errorf("text: %w", err))
	}
	if hasHTML {
		if t.html, err = s.compileHTML("html", or(tc.HTML, def("html"))); err != nil {
			errs = append(errs, fmt.Errorf("html: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, m := range Samples(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)) {
		if _, err := t.render(m); err != nil {
			return nil, fmt.Errorf("rendering a %s message: %w", m.StepType, err)
		}
	}
	if tc.Title != "" || tc.Text != "" || tc.HTML != "" {
		if t.fallback, err = s.Target(config.Target{Type: tc.Type}); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Set) compileText(name, src string) (*texttemplate.Template, error) {
	c, err := s.text.Clone()
	if err != nil {
		return nil, err
	}
	return c.New(name).Parse(src)
}

func (s *Set) compileHTML(name, src string) (*htmltemplate.Template, error) {
	c, err := s.html.Clone()
	if err != nil {
		return nil, err
	}
	return c.New(name).Parse(src)
}

// Rendered is a message's human text for one target (notify.Rendered).
type Rendered = notify.Rendered

func (t *Target) render(m *notify.Message) (Rendered, error) {
	d := Data{Message: m, loc: t.loc}
	var r Rendered
	var b bytes.Buffer
	if err := t.title.Execute(&b, d); err != nil {
		return r, fmt.Errorf("title: %w", err)
	}
	r.Title = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := t.text.Execute(&b, d); err != nil {
		return r, fmt.Errorf("text: %w", err)
	}
	r.Text = strings.TrimSpace(b.String())
	if t.html != nil {
		b.Reset()
		if err := t.html.Execute(&b, d); err != nil {
			return r, fmt.Errorf("html: %w", err)
		}
		r.HTML = b.String()
	}
	return r, nil
}

// Render renders m's title, text and html. When an override fails at send
// time it falls back to the type's defaults, so the message still goes
// out, and returns the override's error with the defaults' result.
func (t *Target) Render(m *notify.Message) (Rendered, error) {
	r, err := t.render(m)
	if err == nil || t.fallback == nil {
		return r, err
	}
	r, ferr := t.fallback.render(m)
	return r, errors.Join(err, ferr)
}

// Apply returns a copy of m whose Summary and Text are the rendered title
// and text, and the rendered parts. On an error (logged by the caller) the
// copy holds whatever rendered; where nothing did, m's own Summary and Text
// stay.
func (t *Target) Apply(m *notify.Message) (*notify.Message, Rendered, error) {
	r, err := t.Render(m)
	c := *m
	if r.Title != "" {
		c.Summary = r.Title
	}
	if r.Text != "" {
		c.Text = r.Text
	}
	return &c, r, err
}

// ApplyLogged is Apply for notifiers: a template error is logged as a
// warning and the message goes out with what rendered. A nil t renders
// nothing: m goes out with its own Summary and Text (notifiers built
// directly, without the registry, as in their unit tests).
func (t *Target) ApplyLogged(m *notify.Message, log *zap.Logger) (*notify.Message, Rendered) {
	if t == nil {
		return m, Rendered{Title: m.Summary, Text: m.Text}
	}
	c, r, err := t.Apply(m)
	if err != nil && log != nil {
		log.Warn("message template failed; the defaults were used", zap.String("incident", m.Incident.Key), zap.Error(err))
	}
	return c, r
}
