package nodes

import (
	"context"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/fastdag/fastdag/pkg/dag"
)

// condition takes its true or false branch by a boolean expression;
// dependents of the other branch are skipped. The taken output carries the
// node's "value" input when it has one, else the boolean.
type condition struct {
	node *dag.Node
	prog *vm.Program
}

func compileCondition(r *Registry, n *dag.Node) (dag.Action, error) {
	for _, o := range n.Outputs {
		if o != "true" && o != "false" {
			return nil, fmt.Errorf("uses condition: outputs are always true and false; remove outputs: %s", o)
		}
	}
	p, err := r.withExpr(n)
	if err != nil {
		return nil, err
	}
	return &condition{node: n, prog: p}, nil
}

func (c *condition) Branches() []string { return []string{"true", "false"} }

func (c *condition) Run(ctx context.Context, inv *dag.Invocation) (*dag.Result, error) {
	v, err := eval(c.prog, inv.Inputs)
	if err != nil {
		return nil, &dag.NodeError{Node: c.node.Name, Op: "condition", Err: err}
	}
	b, ok := v.(bool)
	if !ok {
		return nil, &dag.NodeError{Node: c.node.Name, Op: "condition", Err: fmt.Errorf("expression must yield true or false, not %T (%v)", v, v)}
	}
	branch := "false"
	if b {
		branch = "true"
	}
	return branchResult(inv, branch, b), nil
}

// branchResult: the default output is what the expression yielded; the
// taken branch carries the "value" input when there is one.
func branchResult(inv *dag.Invocation, branch string, v any) *dag.Result {
	carried := v
	if val, ok := inv.Inputs["value"]; ok {
		carried = val
	}
	return &dag.Result{Value: v, Branch: branch, Outputs: map[string]any{branch: carried}}
}

// selector takes the one declared output named by its expression's value,
// or "default" when that is declared and nothing else matches.
type selector struct {
	node *dag.Node
	prog *vm.Program
}

func compileSelect(r *Registry, n *dag.Node) (dag.Action, error) {
	if len(n.Outputs) == 0 {
		return nil, fmt.Errorf("uses select: declare its branches as outputs, e.g. outputs: [eu, us, default]")
	}
	p, err := r.withExpr(n)
	if err != nil {
		return nil, err
	}
	return &selector{node: n, prog: p}, nil
}

func (s *selector) Branches() []string { return s.node.Outputs }

func (s *selector) Run(ctx context.Context, inv *dag.Invocation) (*dag.Result, error) {
	v, err := eval(s.prog, inv.Inputs)
	if err != nil {
		return nil, &dag.NodeError{Node: s.node.Name, Op: "select", Err: err}
	}
	key := fmt.Sprint(v)
	switch {
	case s.node.HasOutput(key):
	case s.node.HasOutput("default"):
		key = "default"
	default:
		return nil, &dag.NodeError{Node: s.node.Name, Op: "select", Err: fmt.Errorf("value %q matches no branch; branches: %s (add a default branch to catch the rest)", key, strings.Join(s.node.Outputs, ", "))}
	}
	return branchResult(inv, key, v), nil
}
