package adapters

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeJSONNamesThePath(t *testing.T) {
	type inner struct {
		Labels map[string]string `json:"labels"`
		N      []int             `json:"n"`
		Flag   bool              `json:"flag"`
	}
	type outer struct {
		Version string  `json:"version"`
		Items   []inner `json:"items"`
		Nested  struct {
			Deep []inner `json:"deep"`
		} `json:"nested"`
	}
	tests := []struct {
		name, body, want string
	}{
		{"top level", `[1]`, "body: got array, want object"},
		{"field", `{"version": 4}`, "version: got number, want string"},
		{"element", `{"items": [{}, 7]}`, "items[1]: got number, want object"},
		{"map value", `{"items": [{}, {"labels": {"a": "b", "c": null, "d": 1}}]}`, "items[1].labels.d: got number, want string"},
		{"map itself", `{"items": [{"labels": [1]}]}`, "items[0].labels: got array, want object"},
		{"slice element", `{"items": [{"n": [1, 2, "x"]}]}`, "items[0].n[2]: got string, want integer"},
		{"after skipped values", `{"skip": {"a": [1, {"b": 2}]}, "items": [{"flag": "yes"}]}`,
			"items[0].flag: got string, want boolean"},
		{"nested", `{"nested": {"deep": [{}, {}, {"labels": {"x": {"y": 1}}}]}}`,
			"nested.deep[2].labels.x: got object, want string"},
		{"unicode keys", `{"items": [{"labels": {"ключ": false}}]}`, "items[0].labels.ключ: got bool, want string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v outer
			err := decodeJSON([]byte(tt.body), &v)
			require.ErrorIs(t, err, ErrBadPayload)
			require.EqualError(t, err, "bad payload: "+tt.want)
		})
	}
}
