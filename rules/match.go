package rules

import (
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/alertgate/alertgate/alert"
)

// view is what matchers, keywords and expressions see of one alert while
// it is evaluated: its labels, its fields, and what rules decided so far.
// It lives on the evaluating goroutine's stack.
type view struct {
	a *alert.Alert
	// category is the category decided so far; "" falls back to the label.
	category string
	// priority is the decided severity ("P0"…), for inhibition; "" falls
	// back to the label.
	priority string
	// words are the words of the alertname, title and service, split
	// lazily on first use by a keyword rule (see splitText); run[i] numbers
	// the letter-and-digit run words[i] came from. Words past the capacity
	// are ignored.
	words  [maxWords]string
	run    [maxWords]uint8
	nWords int
	split  bool
	// firsts has bit c set when some word starts with the byte c (ASCII
	// lower-cased), so most keywords are rejected without a scan.
	firsts [4]uint64
	// env is the expression environment, built on first use.
	env *Env
}

// value returns what a matcher named name sees: the decided category or
// priority for those names, else the label, else the alert field of that
// name (source, source_type, title, description, service, severity, status).
func (v *view) value(name string) string {
	switch {
	case name == "category" && v.category != "":
		return v.category
	case name == "priority" && v.priority != "":
		return v.priority
	}
	return value(v.a, name)
}

// value returns the label name of a, else its field of that name.
func value(a *alert.Alert, name string) string {
	if v, ok := a.Labels[name]; ok {
		return v
	}
	switch name {
	case "source":
		return a.Source
	case "source_type":
		return a.SourceType
	case "title":
		return a.Title
	case "description":
		return a.Description
	case "service":
		return a.Service
	case "severity":
		return a.SeverityHint
	case "status":
		return string(a.Status)
	}
	return ""
}

// matcher is an Alertmanager matcher with a fast path for the common
// regexes that are only a list of literals, optionally case-insensitive
// (`severity=~"(?i)critical|p0"`): those compare strings instead of
// running the regexp. Results are identical either way.
type matcher struct {
	*labels.Matcher
	literals []string // non-nil: the fast path applies
	fold     bool
	// text is Matcher.String(), written once: Alertmanager's String
	// builds a strings.Replacer per call, and Explain names every matcher
	// that does not hold.
	text string
}

// String returns the matcher as Alertmanager writes it.
func (m matcher) String() string { return m.text }

func newMatcher(s string) (matcher, error) {
	m, err := labels.ParseMatcher(s)
	if err != nil {
		return matcher{}, err
	}
	out := matcher{Matcher: m, text: m.String()}
	if m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp {
		out.literals, out.fold = literalAlternatives(m.Value)
	}
	return out, nil
}

// literalAlternatives returns the alternatives of a regexp made only of
// plain ASCII words joined by "|", after an optional "(?i)"; nil otherwise.
func literalAlternatives(re string) ([]string, bool) {
	fold := strings.HasPrefix(re, "(?i)")
	if fold {
		re = re[len("(?i)"):]
	}
	for i := 0; i < len(re); i++ {
		c := re[i]
		plain := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '-' || c == ' ' || c == ':' || c == '/' || c == ',' || c == '@' || c == '=' || c == '|'
		if !plain {
			return nil, false
		}
	}
	return strings.Split(re, "|"), fold
}

// matches reports whether the matcher holds for the value s.
func (m *matcher) matches(s string) bool {
	if m.literals == nil || m.fold && !isASCII(s) {
		// Unicode case folding (K and the Kelvin sign) is the regexp's job.
		return m.Matches(s)
	}
	hit := false
	for _, l := range m.literals {
		if len(l) == len(s) && (l == s || m.fold && strings.EqualFold(l, s)) {
			hit = true
			break
		}
	}
	return hit == (m.Type == labels.MatchRegexp)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// compileKeywords splits each keyword into its lower-case words, the way
// alert text is split, so "error rate" and "ErrorRate" are both the phrase
// [error rate].
func compileKeywords(kws []string) [][]string {
	out := make([][]string, 0, len(kws))
	for _, k := range kws {
		var parts []string
		splitWords(k, func(w string, _ bool) { parts = append(parts, strings.ToLower(w)) })
		if len(parts) > 0 {
			out = append(out, parts)
		}
	}
	return out
}

// keywordFields are the alert texts keyword rules search.
const keywordFields = "alertname, title, service"

// maxWords is the capacity of a view's word list.
const maxWords = 48

// splitText fills the view's word list from the alertname, title and
// service. An empty word separates the fields so phrases never span two.
func (v *view) splitText() {
	v.split = true
	var run uint8
	add := func(w string, newRun bool) {
		if newRun {
			run++
		}
		if v.nWords < maxWords {
			v.words[v.nWords], v.run[v.nWords] = w, run
			v.nWords++
			if w != "" {
				c := foldByte(w[0])
				v.firsts[c>>6] |= 1 << (c & 63)
			}
		}
	}
	name := v.a.Labels["alertname"]
	splitWords(name, add)
	if v.a.Title != name {
		add("", true)
		splitWords(v.a.Title, add)
	}
	if v.a.Service != name && v.a.Service != v.a.Title {
		add("", true)
		splitWords(v.a.Service, add)
	}
}

// keyword returns the index of the first keyword (phrase) found among the
// words, or -1.
func (v *view) keyword(kws [][]string) int {
	if !v.split {
		v.splitText()
	}
	words := v.words[:v.nWords]
	for i, kw := range kws {
		if len(kw) == 1 {
			if v.hasWord(kw[0]) {
				return i
			}
			continue
		}
		if c := kw[0][0]; v.firsts[c>>6]&(1<<(c&63)) == 0 {
			continue
		}
		for j := 0; j+len(kw) <= len(words); j++ {
			k := 0
			for k < len(kw) && wordIs(words[j+k], kw[k]) {
				k++
			}
			if k == len(kw) {
				return i
			}
		}
	}
	return -1
}

// hasWord reports whether kw is a word, or consecutive words of one run
// ("My"+"SQL" in "MySQLDown" is mysql).
func (v *view) hasWord(kw string) bool {
	if c := kw[0]; v.firsts[c>>6]&(1<<(c&63)) == 0 {
		return false
	}
	for j := 0; j < v.nWords; j++ {
		rest := v.words[j]
		if len(rest) == 0 || foldByte(rest[0]) != kw[0] || !hasPrefixFold(kw, rest) && !wordIs(rest, kw) {
			continue
		}
		rest = kw
		for k := j; k < v.nWords && v.run[k] == v.run[j]; k++ {
			w := v.words[k]
			if wordIs(w, rest) {
				return true
			}
			if len(w) >= len(rest) || !hasPrefixFold(rest, w) {
				break
			}
			rest = rest[len(w):]
		}
	}
	return false
}

// hasPrefixFold reports whether the lower-case s starts with w, ignoring
// ASCII case.
func hasPrefixFold(s, w string) bool {
	return len(w) <= len(s) && wordIs(w, s[:len(w)])
}

// wordIs reports whether w is the lower-case keyword kw, ignoring ASCII
// case, or its plural with "s".
func wordIs(w, kw string) bool {
	switch len(w) - len(kw) {
	case 0:
	case 1:
		if c := w[len(kw)]; c != 's' && c != 'S' {
			return false
		}
	default:
		return false
	}
	for i := 0; i < len(kw); i++ {
		if foldByte(w[i]) != kw[i] {
			return false
		}
	}
	return true
}

// foldByte lower-cases an ASCII letter.
func foldByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Character classes of the word splitter. Bytes of non-ASCII characters
// count as lower-case letters: they join words but never split them.
const (
	sep = iota
	lowerC
	upperC
	digitC
)

func class(c byte) int {
	switch {
	case 'a' <= c && c <= 'z', c >= 0x80:
		return lowerC
	case 'A' <= c && c <= 'Z':
		return upperC
	case '0' <= c && c <= '9':
		return digitC
	}
	return sep
}

// splitWords calls word for each word of s, in order: runs of letters and
// digits, split again where the case or kind changes ("PostgresDown" →
// Postgres Down, "HTTPServer" → HTTP Server, "oauth2" → oauth 2). newRun is
// true for the first word of each run.
func splitWords(s string, word func(w string, newRun bool)) {
	for i := 0; i < len(s); {
		if class(s[i]) == sep {
			i++
			continue
		}
		start := i
		for i < len(s) && class(s[i]) != sep {
			i++
		}
		run := s[start:i]
		from := 0
		for j := 1; j < len(run); j++ {
			p, c := class(run[j-1]), class(run[j])
			boundary := (p == digitC) != (c == digitC) ||
				p == lowerC && c == upperC ||
				p == upperC && c == upperC && j+1 < len(run) && class(run[j+1]) == lowerC
			if boundary {
				word(run[from:j], from == 0)
				from = j
			}
		}
		word(run[from:], from == 0)
	}
}
