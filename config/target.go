package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	promconfig "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
)

// targetKeys are the keys every target has; the others are its type's.
var targetKeys = yamlKeys(reflect.TypeFor[Target]())

// targetFields is Target without its YAML methods.
type targetFields Target

// UnmarshalYAML decodes the keys every target has, strictly, and keeps
// the others, its type's own, for DecodeSettings.
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return n.Decode((*targetFields)(t))
	}
	common := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	own := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		into := own
		if targetKeys[n.Content[i].Value] {
			into = common
		}
		into.Content = append(into.Content, n.Content[i], n.Content[i+1])
	}
	var msgs []string
	// http_config checks itself as it decodes; its problems join the
	// others instead of ending the load.
	for i := 0; i+1 < len(common.Content); i += 2 {
		if k, v := common.Content[i], common.Content[i+1]; k.Value == "http_config" {
			var hc promconfig.HTTPClientConfig
			if err := v.Decode(&hc); err != nil {
				var te *yaml.TypeError
				if !errors.As(err, &te) {
					msgs = append(msgs, fmt.Sprintf("line %d: http_config: %v", k.Line, err))
					common.Content = slices.Delete(common.Content, i, i+2)
				}
			}
			break
		}
	}
	unknownKeys(common, reflect.TypeFor[targetFields](), &msgs)
	if err := common.Decode((*targetFields)(t)); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return err
		}
		msgs = append(msgs, te.Errors...)
	}
	t.own = nil
	if len(own.Content) > 0 {
		t.own = &ownKeys{node: own}
	}
	t.decodeErrs = msgs
	return nil
}

// MarshalYAML prints the keys every target has, then its Settings' keys:
// the target as it would be written. Secrets print as <secret>.
func (t Target) MarshalYAML() (any, error) {
	var n yaml.Node
	if err := n.Encode((*targetFields)(&t)); err != nil {
		return nil, err
	}
	if t.Settings != nil {
		var s yaml.Node
		if err := s.Encode(t.Settings); err != nil {
			return nil, err
		}
		if s.Kind == yaml.MappingNode {
			n.Content = append(n.Content, s.Content...)
		}
	}
	return &n, nil
}

// DecodeSettings decodes the target's own keys (those not every target
// has) into into, a pointer to its type's settings struct holding their
// defaults, strictly: a key into has no field for is an error, with its
// line. Then it resolves into's secrets as Load resolves the rest: each
// Secret field X is read from X_file when that string field is set, else
// its ${VAR} references are expanded. key is the target's YAML path
// ("targets[2]"), which errors name; Load places them in the file when
// they come from a Check.
func (t *Target) DecodeSettings(key string, into any) error {
	var errs []error
	dir := ""
	if t.own != nil {
		dir = t.own.dir
		var msgs []string
		unknownKeys(t.own.node, reflect.TypeOf(into), &msgs)
		if err := t.own.node.Decode(into); err != nil {
			var te *yaml.TypeError
			if !errors.As(err, &te) {
				return err
			}
			msgs = append(msgs, te.Errors...)
		}
		for _, m := range msgs {
			errs = append(errs, &decodeProblem{msg: m})
		}
	}
	r := &secretResolver{dir: dir, lookup: os.LookupEnv, readFile: readSecretFile}
	resolveSecretFields(r, key, reflect.ValueOf(into))
	errs = append(errs, r.errs...)
	return errors.Join(errs...)
}

// decodeProblem is a decoding error of yaml.v3's form ("line 3: field x
// not found in type y"), which Load formats as it formats its own.
type decodeProblem struct{ msg string }

func (p *decodeProblem) Error() string { return p.msg }

// yamlKeys lists the YAML keys of struct type t, inline fields' included.
func yamlKeys(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for name := range yamlFields(t) {
		out[name] = true
	}
	return out
}

// yamlFields maps the YAML keys of struct type t to their fields' types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// unknownKeys reports, in yaml.v3's words, every key of n that type t
// (a struct, or what holds one) has no field for, at any depth: what a
// decoder with KnownFields(true) reports, for a node already parsed.
func unknownKeys(n *yaml.Node, t reflect.Type, msgs *[]string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				*msgs = append(*msgs, fmt.Sprintf("line %d: field %s not found in type %s", k.Line, k.Value, t.String()))
				continue
			}
			unknownKeys(n.Content[i+1], ft, msgs)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			unknownKeys(c, t.Elem(), msgs)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			unknownKeys(n.Content[i], t.Elem(), msgs)
		}
	}
}

// fileKeys maps the Secret key X of struct v to its X_file sibling's
// value, for each X_file string field.
func fileKeys(v reflect.Value) map[string]string {
	files := map[string]string{}
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if strings.HasSuffix(name, "_file") && v.Field(i).Kind() == reflect.String {
			files[strings.TrimSuffix(name, "_file")] = v.Field(i).String()
		}
	}
	return files
}

// resolveSecretFields resolves every Secret field of the struct v points
// to (and of the structs it holds) from its X_file sibling or the
// environment; path is v's YAML path.
func resolveSecretFields(r *secretResolver, path string, v reflect.Value) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	files := fileKeys(v)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch fv := v.Field(i); {
		case f.Type == reflect.TypeFor[Secret]():
			r.resolve(path+"."+name, fv.Addr().Interface().(*Secret), files[name])
		case fv.Kind() == reflect.Struct || fv.Kind() == reflect.Pointer:
			resolveSecretFields(r, path+"."+name, fv)
		}
	}
}

// withoutFileSecretFields returns a copy of the struct v points to with
// the Secret fields read from an X_file left empty, so that the file key
// is printed rather than "<secret>".
func withoutFileSecretFields(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return v
	}
	cp := reflect.New(rv.Elem().Type())
	cp.Elem().Set(rv.Elem())
	blankFileSecrets(cp.Elem())
	return cp.Interface()
}

func blankFileSecrets(v reflect.Value) {
	t := v.Type()
	files := fileKeys(v)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch fv := v.Field(i); {
		case f.Type == reflect.TypeFor[Secret]():
			if files[name] != "" {
				fv.SetString("")
			}
		case fv.Kind() == reflect.Struct:
			blankFileSecrets(fv)
		case fv.Kind() == reflect.Pointer && !fv.IsNil() && fv.Elem().Kind() == reflect.Struct:
			cp := reflect.New(fv.Elem().Type())
			cp.Elem().Set(fv.Elem())
			blankFileSecrets(cp.Elem())
			fv.Set(cp)
		}
	}
}

// Equal reports whether t and o configure the same target, wherever in
// the file they were written.
func (t Target) Equal(o Target) bool {
	t.own, o.own = nil, nil
	return reflect.DeepEqual(t, o)
}
