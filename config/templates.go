package config

import "path/filepath"

// resolveTemplatePaths makes relative template globs start at dir, the
// config file's directory.
func (c *Config) resolveTemplatePaths(dir string) {
	for i, p := range c.Templates {
		if p != "" && !filepath.IsAbs(p) {
			c.Templates[i] = filepath.Join(dir, p)
		}
	}
}
