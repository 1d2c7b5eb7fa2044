package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// maxSecretFile bounds what a *_file may hold, so a mistake such as
// /dev/zero fails instead of hanging the load.
const maxSecretFile = 64 << 10

// envRef matches ${NAME} references inside secret values.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// secretResolver fills Secret fields from the environment and from files.
type secretResolver struct {
	// dir is where relative *_file paths start: the config file's folder.
	dir      string
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	errs     []error
}

// resolveSecrets expands ${VAR} references in every secret and reads every
// *_file field. Errors name the field and the variable or file, never the
// value.
func (c *Config) resolveSecrets(dir string) []error {
	r := &secretResolver{dir: dir, lookup: os.LookupEnv, readFile: readSecretFile}
	r.resolve("server.api_token", &c.Server.APIToken, c.Server.APITokenFile)
	r.resolve("server.ack_link_secret", &c.Server.AckLinkSecret, c.Server.AckLinkSecretFile)
	r.resolve("storage.dsn", &c.Storage.DSN, c.Storage.DSNFile)
	for i := range c.Sources {
		s := &c.Sources[i]
		at := fmt.Sprintf("sources[%d].auth", i)
		r.resolve(at+".bearer_token", &s.Auth.BearerToken, s.Auth.BearerTokenFile)
		if b := s.Auth.Basic; b != nil {
			r.resolve(at+".basic.password", &b.Password, b.PasswordFile)
		}
		if h := s.Auth.HMAC; h != nil {
			r.resolve(at+".hmac.secret", &h.Secret, h.SecretFile)
		}
	}
	for i := range c.Targets {
		if o := c.Targets[i].own; o != nil {
			o.dir = dir // their own secrets resolve with DecodeSettings
		}
		if hc := c.Targets[i].HTTPConfig; hc != nil {
			hc.SetDirectory(dir) // ca_file, cert_file, password_file …
		}
	}
	return r.errs
}

// resolve sets *s from file when file is given, else expands the ${VAR}
// references in *s.
func (r *secretResolver) resolve(path string, s *Secret, file string) {
	switch {
	case file != "" && *s != "":
		r.fail(path, "set either %s or %s_file, not both", leaf(path), leaf(path))
	case file != "":
		if !filepath.IsAbs(file) {
			file = filepath.Join(r.dir, file)
		}
		b, err := r.readFile(file)
		if err != nil {
			// os errors name the path only, never the content.
			r.fail(path+"_file", "%v", err)
			return
		}
		*s = Secret(strings.TrimRight(string(b), "\r\n"))
	case strings.Contains(string(*s), "${"):
		var missing []string
		v := envRef.ReplaceAllStringFunc(string(*s), func(ref string) string {
			name := ref[2 : len(ref)-1]
			val, ok := r.lookup(name)
			if !ok {
				missing = append(missing, name)
			}
			return val
		})
		for _, name := range missing {
			r.fail(path, "environment variable %s is not set", name)
		}
		*s = Secret(v)
	}
}

func (r *secretResolver) fail(path, format string, args ...any) {
	r.errs = append(r.errs, &problem{key: path, where: path, msg: fmt.Sprintf(format, args...)})
}

// leaf returns the last element of a dotted path.
func leaf(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// readSecretFile reads a secret file of at most maxSecretFile bytes.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s: larger than %d KiB", path, maxSecretFile>>10)
	}
	return b, nil
}
