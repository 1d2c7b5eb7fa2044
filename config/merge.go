package config

import "reflect"

// mergeDefaults combines the list sections the file gave (or left out)
// with their defaults in def, so that a small change stays small:
//
//   - rules: the file's rules are tried first, then the default rules,
//     unless default_rules is false; a file rule with a default rule's
//     name replaces that default rule (so the output of `alertgate config
//     default` loads back unchanged);
//   - targets and runbooks: the file's entries, then every default entry
//     whose name the file does not use — an entry given replaces that one
//     default;
//   - roles (a map) merge by yaml.v3's decoding into the default map: a
//     role given replaces that role, the others stay;
//   - sources are exactly the file's when it gives them.
func (c *Config) mergeDefaults(def *Config) {
	if c.DefaultRules == nil || *c.DefaultRules {
		c.Rules = mergeNamed(c.Rules, def.Rules, func(r *Rule) string { return r.Name })
	}
	c.Targets = mergeNamed(c.Targets, def.Targets, func(t *Target) string { return t.Name })
	c.Runbooks = mergeNamed(c.Runbooks, def.Runbooks, func(r *Runbook) string { return r.Name })
}

// mergeNamed returns given followed by the defaults whose name no given
// entry has.
func mergeNamed[T any](given, defaults []T, name func(*T) string) []T {
	if len(defaults) == 0 {
		return given
	}
	used := make(map[string]bool, len(given))
	for i := range given {
		used[name(&given[i])] = true
	}
	out := given
	for i := range defaults {
		if n := name(&defaults[i]); n == "" || !used[n] {
			out = append(out, defaults[i])
		}
	}
	return out
}

// DefaultRuleCount returns how many of c's rules are default rules
// unchanged (same name and content as in Default), for summaries such as
// check-config's.
func (c *Config) DefaultRuleCount() int {
	byName := map[string]*Rule{}
	def := defaultRules()
	for i := range def {
		byName[def[i].Name] = &def[i]
	}
	n := 0
	for i := range c.Rules {
		if d, ok := byName[c.Rules[i].Name]; ok && sameRule(d, &c.Rules[i]) {
			n++
		}
	}
	return n
}

func sameRule(a, b *Rule) bool { return reflect.DeepEqual(a, b) }
