package nodes

import (
	"context"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/fastdag/fastdag/pkg/dag"
)

// program compiles src over n's inputs, strictly: see dag.Exprs.
func (r *Registry) program(n *dag.Node, src string) (*vm.Program, error) {
	names := make([]string, len(n.Inputs))
	for i, in := range n.Inputs {
		names[i] = in.Name
	}
	return r.exprs.Compile(src, names, true)
}

// exprText reads the required with: expr string.
func exprText(n *dag.Node) (string, error) {
	v, ok := n.With["expr"]
	if !ok {
		return "", fmt.Errorf("uses %s needs with: {expr: EXPRESSION}", n.Uses)
	}
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("uses %s: with.expr must be a non-empty string", n.Uses)
	}
	return s, nil
}

// eval runs a compiled expression over a node's inputs.
func eval(p *vm.Program, inputs map[string]any) (any, error) { return dag.Eval(p, inputs) }

// exprNode evaluates an expression in-process. Its value is the default
// output; when it yields a map, declared outputs pick keys out of it.
type exprNode struct {
	node *dag.Node
	prog *vm.Program
}

func compileExpr(r *Registry, n *dag.Node) (dag.Action, error) {
	p, err := r.withExpr(n)
	if err != nil {
		return nil, err
	}
	return &exprNode{node: n, prog: p}, nil
}

// withExpr compiles the with: {expr} that expr, condition and select take,
// and rejects any other with: key.
func (r *Registry) withExpr(n *dag.Node) (*vm.Program, error) {
	if err := checkWith(n, "expr"); err != nil {
		return nil, err
	}
	src, err := exprText(n)
	if err != nil {
		return nil, err
	}
	return r.program(n, src)
}

func (e *exprNode) Run(ctx context.Context, inv *dag.Invocation) (*dag.Result, error) {
	v, err := eval(e.prog, inv.Inputs)
	if err != nil {
		return nil, &dag.NodeError{Node: e.node.Name, Op: "expr", Err: err}
	}
	res := &dag.Result{Value: v}
	if len(e.node.Outputs) > 0 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, &dag.NodeError{Node: e.node.Name, Op: "expr", Err: fmt.Errorf("declares outputs %v, so the expression must yield a map, not %T", e.node.Outputs, v)}
		}
		res.Outputs = make(map[string]any, len(e.node.Outputs))
		for _, o := range e.node.Outputs {
			ov, ok := m[o]
			if !ok {
				return nil, &dag.NodeError{Node: e.node.Name, Op: "expr", Err: fmt.Errorf("result has no key %q for output %q", o, o)}
			}
			res.Outputs[o] = ov
		}
	}
	return res, nil
}
