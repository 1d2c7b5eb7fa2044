package rules

import (
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/stretchr/testify/require"

	"github.com/alertgate/alertgate/alert"
)

func TestSplitWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"PostgresDown", []string{"Postgres", "Down"}},
		{"HTTPServerDown", []string{"HTTP", "Server", "Down"}},
		{"MySQLConnections", []string{"My", "SQL", "Connections"}},
		{"oauth2-proxy", []string{"oauth", "2", "proxy"}},
		{"checkout_error_rate", []string{"checkout", "error", "rate"}},
		{"frontend error rate above 5%", []string{"frontend", "error", "rate", "above", "5"}},
		{"Über-Dienst", []string{"Über", "Dienst"}},
		{"", nil},
		{"--", nil},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var got []string
			splitWords(tc.in, func(w string, _ bool) { got = append(got, w) })
			require.Equal(t, tc.want, got)
		})
	}
}

func TestKeywords(t *testing.T) {
	cases := []struct {
		name     string
		alert    alert.Alert
		keywords []string
		want     bool
	}{
		{"CamelCase alertname", am(map[string]string{"alertname": "PostgresDown"}), []string{"down"}, true},
		{"acronym in CamelCase", am(map[string]string{"alertname": "MySQLConnectionsExhausted"}), []string{"mysql"}, true},
		{"PostgreSQL is postgresql", am(map[string]string{"alertname": "PostgreSQLDown"}), []string{"postgresql"}, true},
		{"prefix of a word is not the word", am(map[string]string{"alertname": "PostgreSQLDown"}), []string{"postgres"}, false},
		{"plural", am(map[string]string{"alertname": "X", "service": "payments-api"}), []string{"payment"}, true},
		{"phrase across CamelCase", am(map[string]string{"alertname": "HighErrorRate"}), []string{"error rate"}, true},
		{"phrase in snake_case", am(map[string]string{"alertname": "checkout_error_rate"}), []string{"error rate"}, true},
		{"phrase keyword given CamelCase", withTitle(am(map[string]string{"alertname": "X"}), "error rate is high"), []string{"ErrorRate"}, true},
		{"phrase never spans fields", withTitle(am(map[string]string{"alertname": "HighError"}), "rate limited"), []string{"error rate"}, false},
		{"title", withTitle(am(map[string]string{"alertname": "X"}), "Login page slow"), []string{"login"}, true},
		{"service", am(map[string]string{"alertname": "X", "job": "billing-worker"}), []string{"billing"}, true},
		{"description is not searched", func() alert.Alert {
			a := am(map[string]string{"alertname": "X"})
			a.Description = "database is down"
			return a
		}(), []string{"database"}, false},
		{"upper case", am(map[string]string{"alertname": "DB_DOWN"}), []string{"db"}, true},
		{"feedback", am(map[string]string{"alertname": "FeedbackErrors"}), []string{"db"}, false},
		{"download", am(map[string]string{"alertname": "download-queue"}), []string{"down", "load"}, false},
		{"cooldown", am(map[string]string{"alertname": "COOLDOWN"}), []string{"down"}, false},
		{"downs is a plural", am(map[string]string{"alertname": "Downs"}), []string{"down"}, true},
		{"no alertname", alert.Alert{Title: "Payments failing"}, []string{"payment"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := view{a: &tc.alert}
			require.Equal(t, tc.want, v.keyword(compileKeywords(tc.keywords)) >= 0)
		})
	}
}

func TestKeywordsIgnoreWordsPastCapacity(t *testing.T) {
	title := ""
	for range maxWords + 5 {
		title += "word "
	}
	a := alert.Alert{Title: title + "database"}
	v := view{a: &a}
	require.Equal(t, -1, v.keyword(compileKeywords([]string{"database"})))
}

// TestLiteralFastPathAgreesWithRegexp checks that the string-compare fast
// path decides exactly as Alertmanager's regexp matcher.
func TestLiteralFastPathAgreesWithRegexp(t *testing.T) {
	matchers := []string{
		`severity=~"(?i)critical|p0"`, `severity!~"(?i)warning|info"`, `category=~"outage|payment|auth"`,
		`x=~"a|"`, `x=~""`, `x!~"Foo"`, `x=~"(?i)k"`, `x=~"(?i)s"`, `x=~"a-b|c:d"`,
	}
	values := []string{"", "critical", "CRITICAL", "Critical", "p0", "P0", "critical ", "xcritical", "warning", "WARNING", "info",
		"outage", "Outage", "payment", "auth", "a", "A", "foo", "Foo", "k", "K", "\u212a", "s", "S", "\u017f", "a-b", "c:d"}
	for _, s := range matchers {
		fast, err := newMatcher(s)
		require.NoError(t, err)
		require.NotNil(t, fast.literals, "fast path applies to %s", s)
		slow, err := labels.ParseMatcher(s)
		require.NoError(t, err)
		for _, v := range values {
			require.Equal(t, slow.Matches(v), fast.matches(v), "%s on %q", s, v)
		}
	}
}

func TestLiteralFastPathOnlyForLiterals(t *testing.T) {
	for _, s := range []string{`x=~"a.*"`, `x=~"(a|b)"`, `x=~"a\\.b"`, `x=~"(?i)a|b+"`, `x=~"(?s)a"`, `x="a|b"`} {
		m, err := newMatcher(s)
		require.NoError(t, err)
		require.Nil(t, m.literals, s)
	}
}

// A matcher's text is Alertmanager's, written once: Explain names every
// matcher that does not hold, and Alertmanager's String builds a
// strings.Replacer per call.
func TestMatcherTextIsWrittenOnce(t *testing.T) {
	for _, s := range []string{`severity="critical"`, `summary=~"a\"b\\\\c.*"`, `team!="db\nops"`, `env!~"(?i)prod|staging"`} {
		t.Run(s, func(t *testing.T) {
			m, err := newMatcher(s)
			require.NoError(t, err)
			require.Equal(t, m.Matcher.String(), m.String())
			require.Zero(t, testing.AllocsPerRun(100, func() { _ = m.String() }))
		})
	}
}
