package dag

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Exprs compiles expressions (github.com/expr-lang/expr) over a node's
// named inputs: the expr built-in, conditions, selects and cache when:
// all go through it. A program is compiled once per text and set of input
// names and shared by every node that has both, which keeps a workflow of
// 100,000 similar nodes small and quick to load.
type Exprs struct {
	mu    sync.Mutex
	progs map[string]*vm.Program
}

// NewExprs returns an empty Exprs.
func NewExprs() *Exprs { return &Exprs{progs: map[string]*vm.Program{}} }

// Compile compiles src for the given input names. Input types are known
// only at run time, so names compile untyped; with strict, a name that is
// not an input is an error (a typo fails validation rather than the run).
// An input named like a built-in function (count, len) hides the function.
func (x *Exprs) Compile(src string, inputs []string, strict bool) (*vm.Program, error) {
	names := slices.Clone(inputs)
	slices.Sort(names)
	key := fmt.Sprint(strict) + strings.Join(names, ",") + "\x00" + src
	x.mu.Lock()
	defer x.mu.Unlock()
	if p, ok := x.progs[key]; ok {
		return p, nil
	}
	opts := []expr.Option{expr.AllowUndefinedVariables()}
	for _, name := range names {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	p, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %s", src, firstLine(err.Error()))
	}
	if strict {
		free := &freeNames{declared: map[string]bool{}}
		root := p.Node()
		ast.Walk(&root, free)
		for _, name := range free.names {
			if _, found := slices.BinarySearch(names, name); !found && !free.declared[name] {
				return nil, fmt.Errorf("expression %q: unknown name %q%s; the expression sees the node's inputs: %s", src, name, DidYouMean(name, names), listOrNone(names))
			}
		}
	}
	x.progs[key] = p
	return p, nil
}

// vms reuses expression VMs (their stacks and scratch buffers) across
// evaluations: allocating one each time was a third of an expr node's cost.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// Eval runs a compiled expression over inputs, which it does not change.
func Eval(p *vm.Program, inputs map[string]any) (any, error) {
	if inputs == nil {
		inputs = map[string]any{}
	}
	m := vms.Get().(*vm.VM)
	v, err := m.Run(p, inputs)
	vms.Put(m)
	if err != nil {
		return nil, fmt.Errorf("%s", firstLine(err.Error()))
	}
	return v, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
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
