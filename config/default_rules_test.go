package config

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/stretchr/testify/require"
)

// The rules package tests what the default rules decide, one case per
// rule; these tests check their shape.

func TestDefaultRulesShape(t *testing.T) {
	rules := Default().Rules
	names := map[string]bool{}
	runbooks := map[string]bool{}
	for _, r := range Default().Runbooks {
		runbooks[r.Name] = true
	}
	last := rules[len(rules)-1]
	require.Equal(t, Rule{Name: "default", Severity: "P2"}, last, "a catch-all ends the list")
	for i, r := range rules {
		t.Run(r.Name, func(t *testing.T) {
			require.NotEmpty(t, r.Name)
			require.False(t, names[r.Name], "unique name")
			names[r.Name] = true
			if r.Category != "" {
				require.Contains(t, Categories, r.Category)
			}
			if r.Runbook != "" {
				require.True(t, runbooks[r.Runbook], "runbook %q exists", r.Runbook)
			}
			require.Equal(t, r.Severity == "", r.Continue, "enrichment rules continue, severity rules stop")
			if i < len(rules)-1 {
				require.True(t, len(r.Match) > 0 || len(r.Keywords) > 0, "only the catch-all matches everything")
			}
			for _, m := range r.Match {
				_, err := labels.ParseMatcher(m)
				require.NoError(t, err, m)
			}
		})
	}
}

// TestDefaultCategoryRulesUseTheVocabulary checks every category the
// default matchers name is in Categories, so a typo can't silently make a
// rule unreachable.
func TestDefaultCategoryRulesUseTheVocabulary(t *testing.T) {
	word := regexp.MustCompile(`[a-z]+`)
	for _, r := range Default().Rules {
		for _, s := range r.Match {
			m, err := labels.ParseMatcher(s)
			require.NoError(t, err)
			if m.Name != "category" || m.Value == "" {
				continue
			}
			for _, c := range word.FindAllString(m.Value, -1) {
				require.Contains(t, Categories, c, "rule %s", r.Name)
			}
		}
	}
}

func TestDefaultKeywordCategories(t *testing.T) {
	var got []string
	for _, kc := range defaultCategories {
		got = append(got, kc.category)
		for _, k := range kc.keywords {
			require.Equal(t, strings.ToLower(k), k, "keywords are lower case")
		}
	}
	require.ElementsMatch(t, Categories, got, "every category has keywords")
	require.Equal(t, []string{"security", "payment", "auth", "database", "outage"}, got[:5],
		"the most specific categories are tried first")
	require.True(t, slices.Contains(defaultCategories[1].keywords, "checkout"))
}

func TestDefaultInhibit(t *testing.T) {
	require.Equal(t, []InhibitRule{{
		Name:           "p0-mutes-lower-priorities",
		SourceMatchers: []string{`priority="P0"`},
		TargetMatchers: []string{`priority=~"P1|P2|P3"`},
		Equal:          []string{"service"},
	}}, Default().Inhibit)
}
