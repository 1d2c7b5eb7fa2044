package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"go.yaml.in/yaml/v3"
)

const marshalHeader = `# alertgate configuration.
# Sections left out of a file keep these defaults. A file's rules are tried
# before the default rules (default_rules: false: only the file's); roles,
# targets and runbooks given replace the entries of the same name; sources
# are exactly the file's; other sections change only the keys they give.
# Secrets print as <secret>: set them with ${ENV_VAR} or the *_file keys.
`

// Marshal encodes c as YAML with a short header comment. Secrets print as
// "<secret>", so the output is safe to show; a secret read from a *_file is
// left out in favour of its *_file key, so a config whose secrets all come
// from files loads again as it was.
func Marshal(c *Config) ([]byte, error) {
	c = withoutFileSecrets(c)
	var buf bytes.Buffer
	buf.WriteString(marshalHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("config marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config marshal: %w", err)
	}
	return buf.Bytes(), nil
}

// withoutFileSecrets returns a copy of c without the secret values that
// came from *_file keys. c is not modified.
func withoutFileSecrets(c *Config) *Config {
	out := *c
	if out.Server.APITokenFile != "" {
		out.Server.APIToken = ""
	}
	if out.Server.AckLinkSecretFile != "" {
		out.Server.AckLinkSecret = ""
	}
	if out.Storage.DSNFile != "" {
		out.Storage.DSN = ""
	}
	out.Sources = append([]Source(nil), c.Sources...)
	for i := range out.Sources {
		a := &out.Sources[i].Auth
		if a.BearerTokenFile != "" {
			a.BearerToken = ""
		}
		if a.Basic != nil && a.Basic.PasswordFile != "" {
			b := *a.Basic
			b.Password = ""
			a.Basic = &b
		}
		if a.HMAC != nil && a.HMAC.SecretFile != "" {
			h := *a.HMAC
			h.Secret = ""
			a.HMAC = &h
		}
	}
	out.Targets = append([]Target(nil), c.Targets...)
	for i := range out.Targets {
		t := &out.Targets[i]
		t.Settings = withoutFileSecretFields(t.Settings)
	}
	return &out
}

// Fingerprint identifies what a config makes the gateway do — everything
// but the per-process sections (server, storage, log) — so that replicas
// can tell whether they run the same config. Secret values do not enter
// it (they print as <secret>). It is the first 12 hex digits of a SHA-256.
func Fingerprint(c *Config) (string, error) {
	out := *c
	out.Server, out.Storage, out.Log = Server{}, Storage{}, Log{}
	b, err := Marshal(&out)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6]), nil
}
