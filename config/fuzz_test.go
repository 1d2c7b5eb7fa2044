package config

import (
	"os"
	"testing"
)

func FuzzLoadBytes(f *testing.F) {
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
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadBytes("fuzz.yml", data)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err == nil {
			if _, err := Marshal(c); err != nil {
				t.Fatalf("marshal of a loaded config: %v", err)
			}
		}
	})
}
