package server

import (
	"errors"
	"fmt"

	"github.com/alertgate/alertgate/config"
)

// source is one configured ingest endpoint, ready to serve.
type source struct {
	// name is owned by the table (from config), safe to keep and to use
	// as a metric label.
	name    string
	typ     string
	decoder Decoder
	auth    *sourceAuth
}

// sourceTable is an immutable name → source map; SetSources swaps whole
// tables, so a request sees one consistent configuration.
type sourceTable struct {
	byName map[string]*source
}

// lookup returns the source called name, or nil.
func (t *sourceTable) lookup(name string) *source {
	return t.byName[name]
}

// label returns the metric label for a requested source name: the
// configured name, or unknownSource.
func (t *sourceTable) label(name string) string {
	if s := t.lookup(name); s != nil {
		return s.name
	}
	return unknownSource
}

// buildSources builds decoders and auth for every source. It reports all
// problems at once and returns no table unless every source is valid.
func buildSources(sources []config.Source, newDecoder func(config.Source) (Decoder, error)) (*sourceTable, error) {
	t := &sourceTable{byName: make(map[string]*source, len(sources))}
	var errs []error
	for _, sc := range sources {
		if sc.Name == "" {
			errs = append(errs, errors.New("source without a name"))
			continue
		}
		if _, dup := t.byName[sc.Name]; dup {
			errs = append(errs, fmt.Errorf("source %q: duplicate name", sc.Name))
			continue
		}
		auth, err := newSourceAuth(sc.Auth)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %q: %w", sc.Name, err))
			continue
		}
		dec, err := newDecoder(sc)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %q: decoder: %w", sc.Name, err))
			continue
		}
		if dec == nil {
			errs = append(errs, fmt.Errorf("source %q: no decoder for type %q", sc.Name, sc.Type))
			continue
		}
		t.byName[sc.Name] = &source{name: sc.Name, typ: sc.Type, decoder: dec, auth: auth}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// Sources is a built source table, ready for UseSources (or, for a server
// reading its sources from Deps.Sources, PrepareSources and its owner's
// switch).
type Sources struct{ t *sourceTable }

// BuildSources builds the decoder and auth of every source without
// changing anything; the error lists every bad source.
func (s *Server) BuildSources(sources []config.Source) (*Sources, error) {
	t, err := buildSources(sources, s.newDecoder)
	if err != nil {
		return nil, err
	}
	return &Sources{t: t}, nil
}

// Sources is the source table the server reads now.
func (s *Server) Sources() *Sources {
	if s.sharedSources != nil {
		if src := s.sharedSources(); src != nil {
			return src
		}
	}
	return s.ownSources.Load()
}

// table is the source table in use.
func (s *Server) table() *sourceTable { return s.Sources().t }

// PrepareSources starts the request metrics of src's sources at zero and
// warns of those that take alerts without authentication. It is called
// before src is switched to, so that its first request counts on a
// series already exported.
func (s *Server) PrepareSources(src *Sources) {
	for _, src := range src.t.byName {
		s.metrics.initSource(src.name)
		if src.auth.open() {
			s.log.Warn("source accepts alerts without authentication", zapSource(src.name))
		}
	}
}

// UseSources replaces the server's own source table in one step (a
// config reload of a server without Deps.Sources). Requests in flight
// finish with the table they started with.
func (s *Server) UseSources(src *Sources) {
	s.PrepareSources(src)
	s.ownSources.Store(src)
}

// SetSources builds the source table and switches to it (BuildSources,
// then UseSources); on any error the old table stays in place and the
// error lists every bad source.
func (s *Server) SetSources(sources []config.Source) error {
	t, err := s.BuildSources(sources)
	if err != nil {
		return err
	}
	s.UseSources(t)
	return nil
}
