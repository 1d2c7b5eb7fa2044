package adapters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// decodeJSON unmarshals body into v. Errors wrap ErrBadPayload and name
// the offending field's path with array indices ("alerts[2].labels: got
// string, want object"), which encoding/json alone does not give.
//
// lists are the GJSON paths of the arrays v decodes into slices ("" is
// the body itself): each is counted first, without decoding anything, and
// one longer than MaxAlerts is refused. Decoding costs far more memory
// than the body's bytes (349,000 "{}" are 1 MB of body and 250 MiB as
// structs), so the limit must hold before anything is materialized.
func decodeJSON(body []byte, v any, lists ...string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badf("empty body")
	}
	if len(lists) > 0 {
		if err := checkLists(body, lists...); err != nil {
			return err
		}
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return badf("not JSON: %s (offset %d)", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return badf("%s: got %s, want %s", pathOrBody(pathAt(body, te.Offset)), te.Value, kindOf(te.Type))
	}
	return badf("%v", err)
}

// checkLists refuses body when it is not JSON or when an array at one of
// paths (dot-separated object keys; "" is the body itself) holds more
// than MaxAlerts elements. json.Valid and GJSON scan the body without
// allocating per element, and json.Valid refuses nesting deeper than
// 10,000 before GJSON walks it. Every member that encoding/json would
// decode into the field counts: a key given twice, or in another case
// ("ALERTS"), cannot slip a long list past the first.
func checkLists(body []byte, paths ...string) error {
	if !json.Valid(body) {
		return notJSON(body)
	}
	// Not gjson.ParseBytes, which copies the body: only counts and, on
	// error, a formatted path leave this function, so viewing body as a
	// string is safe.
	doc := gjson.Parse(unsafe.String(unsafe.SliceData(body), len(body)))
	for _, p := range paths {
		var segs []string
		if p != "" {
			segs = strings.Split(p, ".")
		}
		if err := countLists(doc, segs, ""); err != nil {
			return err
		}
	}
	return nil
}

// countLists checks the arrays under r at the keys segs.
func countLists(r gjson.Result, segs []string, path string) error {
	if len(segs) == 0 {
		if !r.IsArray() {
			return nil // decoding names the type error
		}
		return checkCount(pathOrBody(path), int(r.Get("#").Int()))
	}
	if !r.IsObject() {
		return nil
	}
	var err error
	r.ForEach(func(k, v gjson.Result) bool {
		if strings.EqualFold(k.String(), segs[0]) {
			err = countLists(v, segs[1:], at(path, k.String()))
		}
		return err == nil
	})
	return err
}

// listCap is a capacity for the slice that the array at path decodes
// into: its length when it is an array of at most MaxAlerts elements, so
// decoding does not grow the slice by doubling (which once cost more
// than the alerts themselves); 0 otherwise.
func listCap(body []byte, path string) int {
	q := "#"
	if path != "" {
		q = path + ".#"
	}
	n := gjson.GetBytes(body, q)
	if n.Type != gjson.Number || n.Int() <= 0 || n.Int() > MaxAlerts {
		return 0
	}
	return int(n.Int())
}

// validJSON is json.Valid with the reason: unlike gjson.Valid it limits
// nesting (10,000 levels) without recursing, so a megabyte of "[" costs
// no stack.
func validJSON(body []byte) error {
	if json.Valid(body) {
		return nil
	}
	return notJSON(body)
}

// notJSON explains why body, which gjson rejected, is not JSON.
func notJSON(body []byte) error {
	if err := decodeJSON(body, new(any)); err != nil {
		return err
	}
	return badf("not JSON")
}

// pathOrBody names the top-level value "body".
func pathOrBody(p string) string {
	if p == "" {
		return "body"
	}
	return p
}

// kindOf names a Go type by the JSON kind it decodes from.
func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Pointer:
		return kindOf(t.Elem())
	}
	return t.String()
}

// pathFrame is one level of nesting while walking a JSON document.
type pathFrame struct {
	array   bool
	index   int
	key     string
	wantKey bool
}

// pathAt returns the path ("alerts[2].labels") of the value that ends at
// byte offset off, or whose opening bracket ends there. encoding/json
// reports type errors at that offset. body must be valid JSON.
func pathAt(body []byte, off int64) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []pathFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return renderPath(stack)
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:top]
			advance(stack)
			continue
		}
		if top >= 0 && stack[top].wantKey {
			stack[top].key, _ = tok.(string)
			stack[top].wantKey = false
			continue
		}
		if dec.InputOffset() >= off {
			return renderPath(stack)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, pathFrame{wantKey: true})
		case json.Delim('['):
			stack = append(stack, pathFrame{array: true})
		default:
			advance(stack)
		}
	}
}

// advance moves the innermost frame past a completed value.
func advance(stack []pathFrame) {
	if len(stack) == 0 {
		return
	}
	f := &stack[len(stack)-1]
	if f.array {
		f.index++
	} else {
		f.wantKey = true
	}
}

func renderPath(stack []pathFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.array {
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.key)
	}
	return b.String()
}

// at joins a path prefix and a field name: at("alerts[2]", "labels").
func at(prefix, field string) string {
	if prefix == "" {
		return field
	}
	if strings.HasPrefix(field, "[") {
		return prefix + field
	}
	return prefix + "." + field
}

// index returns "prefix[i]".
func index(prefix string, i int) string {
	return fmt.Sprintf("%s[%d]", prefix, i)
}
