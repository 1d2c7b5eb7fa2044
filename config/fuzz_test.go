package config

import (
	"os"
	"testing"
)

// fuzzSeeds are the configs every config fuzz target starts from.
func fuzzSeeds(f *testing.F) {
	def, err := Marshal(Default())
	if err != nil {
		f.Fatal(err)
	}
	example, err := os.ReadFile("example.yml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"", issueConfig, string(def), string(example),
		"server:\n  listn: x\n", "targets:\n  - { name: a, fallback: b }\n  - { name: b, fallback: a }\n",
		"a: &x [*x]\n", "escalation: { matrix: [ { P0: soon } ] }\n", "- 1\n", "roles: { '': {} }\n",
		"server: { max_decoding_bytes: 1, alert_limits: { max_labels: -1 } }\n",
	} {
		f.Add([]byte(seed))
	}
}

// FuzzLoadBytes loads arbitrary bytes: an error or a config, never a
// panic. It stays fast enough to fuzz (thousands of inputs a second);
// FuzzMarshalLoaded checks what is loaded can be written back.
func FuzzLoadBytes(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadBytes("fuzz.yml", data)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("error without a message")
		}
	})
}

// FuzzMarshalLoaded checks that every config LoadBytes accepts can be
// marshalled (alertgate config print). Marshalling the whole default
// config costs about a millisecond, hence a target of its own.
func FuzzMarshalLoaded(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadBytes("fuzz.yml", data)
		if err != nil {
			return
		}
		if _, err := Marshal(c); err != nil {
			t.Fatalf("marshal of a loaded config: %v", err)
		}
	})
}
