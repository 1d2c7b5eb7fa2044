package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Load reads, resolves and validates the config file at path. See the
// package documentation for how the file combines with the defaults.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return LoadBytes(path, data)
}

// LoadBytes is Load for a file already read: name is the file's path, used
// in error messages and as the base of relative *_file paths. It returns
// every problem found (errors.Join), each naming the file, line and key.
func LoadBytes(name string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(name, err)
	}
	root := documentRoot(&doc)
	if root != nil && root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the config must be a mapping of sections (server, sources, targets, ...)", name, root.Line)
	}

	c := Default()
	resetGivenMaps(c, root)
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

	var problems []error
	problems = append(problems, c.resolveSecrets(filepath.Dir(name))...)
	c.resolveTemplatePaths(filepath.Dir(name))
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		problems = append(problems, unjoin(err)...)
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

// resetGivenMaps clears the map-typed sections the file gives, so they
// replace the defaults instead of merging into them (yaml.v3 decodes into
// an existing map). Struct sections merge field by field and lists are
// always replaced, which is what we want.
func resetGivenMaps(c *Config, root *yaml.Node) {
	if root == nil {
		return
	}
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i+1 < len(root.Content); i += 2 {
		key := root.Content[i].Value
		for f := 0; f < t.NumField(); f++ {
			if yamlName(t.Field(f)) == key && v.Field(f).Kind() == reflect.Map {
				v.Field(f).SetZero()
			}
		}
	}
}

// yamlName returns the YAML key of a struct field.
func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			return tag[:i]
		}
	}
	return tag
}

// unjoin flattens an errors.Join error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
