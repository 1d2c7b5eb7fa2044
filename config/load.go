package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Load reads, resolves and validates the config file at path. See the
// package documentation for how the file combines with the defaults.
func Load(path string, checks ...Check) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return LoadBytes(path, data, checks...)
}

// Check is a further validation Load runs after Validate, with every
// problem of both reported together; e.g. compiling rule expressions,
// which config, a leaf, cannot do itself. Problems made with FieldError
// are located in the file like Validate's.
type Check func(*Config) error

// FieldError is a problem of one item of the config for a Check: where
// names it in the message ("rules[3] (checkout)"), key is the YAML path
// of the offending key ("rules[3].when"), used to find its line.
func FieldError(where, key string, err error) error {
	return &problem{where: where, key: key, msg: err.Error()}
}

// LoadBytes is Load for a file already read: name is the file's path, used
// in error messages and as the base of relative *_file paths. It returns
// every problem found (errors.Join), each naming the file, line and key.
func LoadBytes(name string, data []byte, checks ...Check) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(name, err)
	}
	root := documentRoot(&doc)
	if root != nil && root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the config must be a mapping of sections (server, sources, targets, ...)", name, root.Line)
	}

	if dups := duplicateKeys(name, root); len(dups) > 0 {
		// yaml.v3 skips a mapping with a duplicate key entirely, so
		// validating what was decoded would report false problems.
		return nil, errors.Join(dups...)
	}

	c := Default()
	def := &Config{Rules: c.Rules, Targets: c.Targets, Runbooks: c.Runbooks}
	c.Rules, c.Targets, c.Runbooks = nil, nil, nil
	var errs []error
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, syntaxError(name, err)
		}
		for _, msg := range te.Errors {
			errs = append(errs, decodeError(name, root, msg))
		}
	}
	for i := range c.Targets {
		for _, msg := range c.Targets[i].decodeErrs {
			errs = append(errs, decodeError(name, root, msg))
		}
	}
	c.mergeDefaults(def)

	var problems []error
	problems = append(problems, c.resolveSecrets(filepath.Dir(name))...)
	c.resolveTemplatePaths(filepath.Dir(name))
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		problems = append(problems, unjoin(err)...)
	}
	for _, check := range checks {
		if err := check(c); err != nil {
			problems = append(problems, unjoin(err)...)
		}
	}
	for _, p := range problems {
		errs = append(errs, locate(name, root, p))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// documentRoot returns the top node of a parsed document, or nil for an
// empty file (no content, or a lone "---" or null).
func documentRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	if n := doc.Content[0]; n.Kind != yaml.ScalarNode || n.ShortTag() != "!!null" {
		return n
	}
	return nil
}

// duplicateKeys reports every key given twice in one mapping, anywhere
// in the file.
func duplicateKeys(file string, root *yaml.Node) []error {
	var errs []error
	check := func(path string, m *yaml.Node) {
		if m.Kind != yaml.MappingNode {
			return
		}
		first := map[string]int{}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				continue
			}
			line, dup := first[k.Value]
			if !dup {
				first[k.Value] = k.Line
				continue
			}
			in := "at top level"
			if path != "" {
				in = "in " + path
			}
			errs = append(errs, fmt.Errorf("%s:%d: duplicate key %q %s (first at line %d): give each key once", file, k.Line, k.Value, in, line))
		}
	}
	if root == nil {
		return nil
	}
	check("", root)
	visit(root, "", func(path string, _, v *yaml.Node) { check(path, v) })
	return errs
}

// unjoin flattens an errors.Join error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
