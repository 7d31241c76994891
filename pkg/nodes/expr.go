package nodes

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/fastdag/fastdag/pkg/dag"
)

// program compiles src for a node's inputs, sharing the result with every
// node of the same text and input names. Names other than the inputs are
// compile errors, so a typo fails validation rather than the run.
func (r *Registry) program(n *dag.Node, src string) (*vm.Program, error) {
	names := make([]string, len(n.Inputs))
	for i, in := range n.Inputs {
		names[i] = in.Name
	}
	sort.Strings(names)
	key := strings.Join(names, ",") + "\x00" + src
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.programs[key]; ok {
		return p, nil
	}
	// Input types are known only at run time, so names compile as untyped;
	// the walk below still rejects any name that is not an input. An input
	// named like a built-in function (count, len) hides the function.
	opts := []expr.Option{expr.AllowUndefinedVariables()}
	for _, name := range names {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	p, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %v", src, firstLine(err.Error()))
	}
	free := &freeNames{declared: map[string]bool{}}
	root := p.Node()
	ast.Walk(&root, free)
	for _, name := range free.names {
		if i := sort.SearchStrings(names, name); (i == len(names) || names[i] != name) && !free.declared[name] {
			return nil, fmt.Errorf("expression %q: unknown name %q%s; the expression sees the node's inputs: %s", src, name, dag.DidYouMean(name, names), strings.Join(names, ", "))
		}
	}
	r.programs[key] = p
	return p, nil
}

// freeNames collects the identifiers an expression reads, and the names
// it declares with let.
type freeNames struct {
	names    []string
	declared map[string]bool
}

func (f *freeNames) Visit(n *ast.Node) {
	switch n := (*n).(type) {
	case *ast.IdentifierNode:
		f.names = append(f.names, n.Value)
	case *ast.VariableDeclaratorNode:
		f.declared[n.Name] = true
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
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

// vms reuses expression VMs (their stacks and scratch buffers) across
// nodes: allocating one per evaluation was a third of an expr node's cost.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

var emptyEnv = map[string]any{}

// eval runs a compiled expression over a node's inputs.
func eval(p *vm.Program, inputs map[string]any) (any, error) {
	env := inputs
	if env == nil {
		env = emptyEnv
	}
	m := vms.Get().(*vm.VM)
	v, err := m.Run(p, env)
	vms.Put(m)
	return v, err
}

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
		return nil, &dag.NodeError{Node: e.node.Name, Op: "expr", Err: fmt.Errorf("%s", firstLine(err.Error()))}
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
