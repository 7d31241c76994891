package nodes

import (
	"context"
	"strings"
	"testing"

	"github.com/fastdag/fastdag/pkg/dag"
)

func node(t *testing.T, src string) *dag.Node {
	t.Helper()
	w, err := dag.Load("t.yaml", []byte("version: 1\nnodes:\n  n:\n"+src), dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	return w.Nodes[0]
}

func TestCompileErrors(t *testing.T) {
	r := NewRegistry()
	for _, tc := range []struct{ src, want string }{
		{"    uses: exprr\n", `unknown built-in "exprr" (did you mean "expr"?); known built-ins: condition, expr, select`},
		{"    uses: expr\n    with: {expr: \"a + b\"}\n    inputs: {a: params.x}\n", `unknown name "b"`},
		{"    uses: expr\n    with: {exp: \"1\"}\n", `unknown with: key "exp" (did you mean "expr"?)`},
		{"    uses: select\n    with: {expr: \"1\"}\n", "declare its branches as outputs"},
		{"    run: echo\n    with: {a: 1}\n", "with: is for uses: nodes"},
	} {
		_, err := r.Compile(node(t, tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestExprSharesPrograms(t *testing.T) {
	r := NewRegistry()
	a, _ := r.Compile(node(t, "    uses: expr\n    with: {expr: \"x + 1\"}\n    inputs: {x: params.p}\n"))
	b, _ := r.Compile(node(t, "    uses: expr\n    with: {expr: \"x + 1\"}\n    inputs: {x: params.q}\n"))
	if a.(*exprNode).prog != b.(*exprNode).prog {
		t.Error("same expression over the same input names compiled twice")
	}
	res, err := a.Run(context.Background(), &dag.Invocation{Inputs: map[string]any{"x": 41}})
	if err != nil || res.Value != 42 {
		t.Errorf("x + 1 with x=41: %v, %v", res, err)
	}
}

func TestSelectDefault(t *testing.T) {
	a, err := NewRegistry().Compile(node(t, "    uses: select\n    with: {expr: \"r\"}\n    inputs: {r: params.r}\n    outputs: [eu, default]\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Run(context.Background(), &dag.Invocation{Inputs: map[string]any{"r": "mars"}})
	if err != nil || res.Branch != "default" || res.Outputs["default"] != "mars" {
		t.Errorf("got %+v, %v", res, err)
	}
}
