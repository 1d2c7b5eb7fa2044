package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/alertgate/alertgate/config"
)

// Env is what a rule's `when` expression sees (expr-lang syntax, see
// https://expr-lang.org/docs/language-definition). The names are the
// expr tags: labels.alertname, annotations.summary, title, impact > 50,
// severity == "critical", title matches "(?i)timeout", "db" in labels.
type Env struct {
	Labels      map[string]string `expr:"labels"`
	Annotations map[string]string `expr:"annotations"`
	Title       string            `expr:"title"`
	Description string            `expr:"description"`
	Service     string            `expr:"service"`
	// Source is the configured source name, SourceType its adapter type.
	Source     string `expr:"source"`
	SourceType string `expr:"source_type"`
	// Status is "firing" or "resolved".
	Status string `expr:"status"`
	// Severity is the sender's own severity word (the severity label of
	// Alertmanager alerts), not a decided level.
	Severity string `expr:"severity"`
	// Category is the category earlier rules decided, else the label.
	Category string `expr:"category"`
	// Impact is the affected-users percentage, 0–100, when ImpactKnown.
	Impact      float64 `expr:"impact"`
	ImpactKnown bool    `expr:"impact_known"`
}

// Bounds of an expression. Expressions have no loops: only the builtins in
// exprBuiltins are available (no all, any, filter, map, reduce, …; no
// repeat, split or toJSON, which build large values), `let` is rejected,
// and the memory budget caps ranges (1..n) and array literals per run.
const (
	exprMaxNodes     = 256
	exprMemoryBudget = 10_000
)

// exprBuiltins are the expr builtins a `when` may call.
var exprBuiltins = []string{
	"len", "abs", "ceil", "floor", "round", "int", "float", "max", "min",
	"trim", "trimPrefix", "trimSuffix", "upper", "lower",
	"hasPrefix", "hasSuffix", "indexOf", "lastIndexOf",
}

// exprOptions are the compile options of every `when`.
func exprOptions() []expr.Option {
	opts := []expr.Option{
		expr.Env(Env{}),
		expr.AsBool(),
		expr.MaxNodes(exprMaxNodes),
		expr.DisableAllBuiltins(),
		expr.Function("icontains", icontains, new(func(string, string) bool)),
	}
	for _, b := range exprBuiltins {
		opts = append(opts, expr.EnableBuiltin(b))
	}
	return opts
}

// icontains reports whether s contains sub, ignoring case:
// icontains(title, "timeout").
func icontains(params ...any) (any, error) {
	s, _ := params[0].(string)
	sub, _ := params[1].(string)
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub)), nil
}

// compileWhen compiles a rule's `when` expression with the bounds above.
func compileWhen(src string) (*vm.Program, error) {
	p, err := expr.Compile(src, exprOptions()...)
	if err != nil {
		return nil, err
	}
	var g guard
	node := p.Node()
	ast.Walk(&node, &g)
	if g.err != nil {
		return nil, g.err
	}
	return p, nil
}

// guard rejects what could make an expression loop or grow: `let` (which
// could double a string per node) and the iterating builtins (all, any,
// filter, map, reduce, …), which expr parses whether or not they are
// disabled.
type guard struct{ err error }

func (g *guard) Visit(n *ast.Node) {
	if g.err != nil {
		return
	}
	switch n := (*n).(type) {
	case *ast.VariableDeclaratorNode:
		g.err = errors.New("let is not allowed in rule expressions")
	case *ast.BuiltinNode:
		if !slices.Contains(exprBuiltins, n.Name) {
			g.err = fmt.Errorf("%s is not allowed in rule expressions (no loops)", n.Name)
		}
	case *ast.PredicateNode, *ast.PointerNode:
		g.err = errors.New("predicates are not allowed in rule expressions (no loops)")
	}
}

// vms are reusable expression VMs with our memory budget; a VM is not
// safe for concurrent use, a pool of them is.
var vms = sync.Pool{New: func() any { return &vm.VM{MemoryBudget: exprMemoryBudget} }}

// emptyMap stands in for an alert's missing labels or annotations, so
// labels.x is "" rather than nil. Never written.
var emptyMap = map[string]string{}

// env returns the view's expression environment, building it on first use.
func (v *view) exprEnv() *Env {
	if v.env == nil {
		a := v.a
		v.env = &Env{
			Labels: a.Labels, Annotations: a.Annotations,
			Title: a.Title, Description: a.Description, Service: a.Service,
			Source: a.Source, SourceType: a.SourceType, Status: string(a.Status),
			Severity: a.SeverityHint, Impact: a.Impact.AffectedUsersPct, ImpactKnown: a.Impact.Known,
		}
		if v.env.Labels == nil {
			v.env.Labels = emptyMap
		}
		if v.env.Annotations == nil {
			v.env.Annotations = emptyMap
		}
	}
	v.env.Category = v.value("category")
	return v.env
}

// runWhen evaluates a compiled `when` on the view. An evaluation error is
// returned for the trace; the rule then does not match.
func runWhen(p *vm.Program, v *view) (bool, error) {
	m := vms.Get().(*vm.VM)
	out, err := m.Run(p, v.exprEnv())
	vms.Put(m)
	if err != nil {
		return false, fmt.Errorf("when: %w", err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("when: result %T is not a bool", out)
	}
	return b, nil
}

// CheckConfig compiles every rule's `when` expression and returns each
// error (errors.Join), located for config.Load: pass it as a config.Check
// so that a bad expression is reported with file, line and the other
// problems of the file.
func CheckConfig(cfg *config.Config) error {
	var errs []error
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		if r.When == "" {
			continue
		}
		if _, err := compileWhen(r.When); err != nil {
			where := fmt.Sprintf("rules[%d]", i)
			if r.Name != "" {
				where += " (" + r.Name + ")"
			}
			// expr's message goes on with the source and a caret; its
			// first line has the reason and the position.
			msg, _, _ := strings.Cut(err.Error(), "\n")
			errs = append(errs, config.FieldError(where, fmt.Sprintf("rules[%d].when", i), errors.New("when: "+msg)))
		}
	}
	return errors.Join(errs...)
}
