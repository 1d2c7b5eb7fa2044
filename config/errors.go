package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// problem is one configuration error at a place in the file.
type problem struct {
	// where prefixes the message: "targets[2] (pagerduty-main)".
	where string
	// key is the YAML path of the offending key, used to find its line:
	// "targets[2].routing_key". Empty for the file as a whole.
	key string
	msg string
}

func (p *problem) Error() string {
	if p.where == "" {
		return p.msg
	}
	return p.where + ": " + p.msg
}

var (
	lineMsg      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
)

// syntaxError formats a yaml.v3 parse error as "file:line: message" (or
// "file: message" when it has no line), without yaml.v3's "yaml: " prefix.
func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := lineMsg.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", file, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", file, strings.TrimPrefix(msg, "yaml: "))
}

// decodeError rewrites one of yaml.v3's TypeError lines
// ("line 12: field listn not found in type config.Server") as
// `alertgate.yml:12: unknown key "listn" in server`.
func decodeError(file string, root *yaml.Node, msg string) error {
	m := lineMsg.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("%s: %s", file, msg)
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	if u := unknownField.FindStringSubmatch(text); u != nil {
		key, goType := u[1], u[2]
		in := "in " + sectionOfType(goType)
		if parent, ok := keyParent(root, line, key); ok {
			in = "in " + parent
			if parent == "" {
				in = "at top level"
			}
		}
		return fmt.Errorf("%s:%d: unknown key %q %s", file, line, key, in)
	}
	if strings.HasPrefix(text, "mapping key") {
		return fmt.Errorf("%s:%d: %s", file, line, text)
	}
	if path := valuePath(root, line, text); path != "" {
		return fmt.Errorf("%s:%d: %s: %s", file, line, path, text)
	}
	return fmt.Errorf("%s:%d: %s", file, line, text)
}

// locate prefixes a validation or secret problem with the file and, when
// the offending key (or its nearest ancestor) is in the file, its line.
func locate(file string, root *yaml.Node, err error) error {
	if d, ok := err.(*decodeProblem); ok { //nolint:errorlint // only one returned as is has a line
		return decodeError(file, root, d.msg)
	}
	p, ok := err.(*problem) //nolint:errorlint // only a problem returned as is has a path to locate
	if !ok {
		return fmt.Errorf("%s: %w", file, err)
	}
	if line := lineOf(root, p.key); line > 0 {
		return fmt.Errorf("%s:%d: %w", file, line, err)
	}
	return fmt.Errorf("%s: %w", file, err)
}

// sectionOfType names a config struct type as the YAML section it decodes,
// for when the key can't be found in the node tree.
func sectionOfType(goType string) string {
	names := map[string]string{
		"config.Config": "the top level", "config.Server": "server", "config.Log": "log",
		"config.Storage": "storage", "config.Source": "a source", "config.Auth": "a source's auth",
		"config.BasicAuth": "auth.basic", "config.HMACAuth": "auth.hmac", "config.Mapping": "a source's mapping",
		"config.Severities": "severities", "config.SeverityLevel": "a severity level", "config.Rule": "a rule",
		"config.Dedup": "dedup", "config.Role": "a role", "config.Escalation": "escalation",
		"config.EscalationRow": "an escalation matrix row", "config.Repeat": "an escalation repeat",
		"config.Digests": "escalation.digests", "config.Target": "a target", "config.Retry": "a target's retry",
		"config.Breaker": "a target's breaker", "config.Communication": "communication",
		"config.Channel": "a channel", "config.StatusPage": "communication.status_page", "config.Runbook": "a runbook",
	}
	if n, ok := names[goType]; ok {
		return n
	}
	return goType
}

// visit calls fn for every mapping entry and sequence item under n with
// its YAML path ("sources[0].auth.bearer_token"). key is nil for sequence
// items. Aliases are not followed.
func visit(n *yaml.Node, path string, fn func(path string, key, val *yaml.Node)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			fn(p, k, v)
			visit(v, p, fn)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			fn(p, nil, item)
			visit(item, p, fn)
		}
	}
}

// keyParent finds the mapping key named key on line and returns the path
// of the mapping that holds it ("" for the top level).
func keyParent(root *yaml.Node, line int, key string) (string, bool) {
	holds := func(m *yaml.Node) bool {
		if m.Kind != yaml.MappingNode {
			return false
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i]; k.Line == line && k.Value == key {
				return true
			}
		}
		return false
	}
	if root == nil {
		return "", false
	}
	if holds(root) {
		return "", true
	}
	parent, found := "", false
	visit(root, "", func(p string, _, v *yaml.Node) {
		if !found && holds(v) {
			parent, found = p, true
		}
	})
	return parent, found
}

// valuePath finds the path of the scalar on line that msg is about: the
// only scalar value on that line, or the one whose text msg quotes.
func valuePath(root *yaml.Node, line int, msg string) string {
	var all, quoted []string
	visit(root, "", func(p string, _, v *yaml.Node) {
		if v.Line != line || v.Kind != yaml.ScalarNode {
			return
		}
		all = append(all, p)
		if strings.Contains(msg, strconv.Quote(v.Value)) || strings.Contains(msg, "`"+v.Value+"`") {
			quoted = append(quoted, p)
		}
	})
	switch {
	case len(quoted) == 1:
		return quoted[0]
	case len(all) == 1:
		return all[0]
	}
	return ""
}

// pathPart matches one element of a YAML path: a key and its indexes.
var pathPart = regexp.MustCompile(`^([^\[]*)((?:\[\d+\])*)$`)

// lineOf returns the line of the node at path, or of its nearest ancestor
// present in the file; 0 when not even the top-level section is there.
func lineOf(root *yaml.Node, path string) int {
	if root == nil || path == "" {
		return 0
	}
	n, line := root, 0
	for _, part := range strings.Split(path, ".") {
		m := pathPart.FindStringSubmatch(part)
		if m == nil {
			return line
		}
		if m[1] != "" {
			v, l := mapValue(n, m[1])
			if v == nil {
				return line
			}
			n, line = v, l
		}
		for _, idx := range strings.FieldsFunc(m[2], func(r rune) bool { return r == '[' || r == ']' }) {
			i, _ := strconv.Atoi(idx)
			if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return line
			}
			n, line = n.Content[i], n.Content[i].Line
		}
	}
	return line
}

// mapValue returns the value of key in a mapping node and the key's line.
func mapValue(n *yaml.Node, key string) (*yaml.Node, int) {
	if n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}
