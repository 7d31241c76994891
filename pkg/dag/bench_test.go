package dag_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/fastdag/fastdag/pkg/dag"
	"github.com/fastdag/fastdag/pkg/nodes"
)

// chainYAML is a chain of n expr nodes, each adding one to the last.
func chainYAML(n int) []byte {
	var b bytes.Buffer
	b.WriteString("version: 1\nname: chain\nnodes:\n  n0:\n    uses: expr\n    with: {expr: \"1\"}\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  n%d:\n    uses: expr\n    with: {expr: \"x + 1\"}\n    inputs: {x: n%d}\n", i, i-1)
	}
	return b.Bytes()
}

// fanoutYAML is one root with n leaves reading it.
func fanoutYAML(n int) []byte {
	var b bytes.Buffer
	b.WriteString("version: 1\nname: fanout\nnodes:\n  root:\n    uses: expr\n    with: {expr: \"1\"}\n")
	for i := range n {
		fmt.Fprintf(&b, "  leaf%d:\n    uses: expr\n    with: {expr: \"x * 2\"}\n    inputs: {x: root}\n", i)
	}
	return b.Bytes()
}

func mustPlan(tb testing.TB, data []byte) *dag.Plan {
	tb.Helper()
	w, err := dag.Load("bench.yaml", data, dag.YAML)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := dag.Compile(w, nodes.NewRegistry().Compile)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// benchRun times Plan.Run alone and reports the cost per node, which is
// the scheduler's overhead plus one tiny expression each.
func benchRun(b *testing.B, data []byte, nodes, jobs int) {
	p := mustPlan(b, data)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Run(context.Background(), dag.RunOptions{Jobs: jobs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(nodes), "ns/node")
}

func BenchmarkChain10k(b *testing.B)   { benchRun(b, chainYAML(10_000), 10_000, 2) }
func BenchmarkChain100k(b *testing.B)  { benchRun(b, chainYAML(100_000), 100_000, 2) }
func BenchmarkFanout5k(b *testing.B)   { benchRun(b, fanoutYAML(5_000), 5_001, 2) }
func BenchmarkFanout5kJ1(b *testing.B) { benchRun(b, fanoutYAML(5_000), 5_001, 1) }

// BenchmarkLoadCompile100k times reading and compiling a 100,000-node
// workflow: the start-up cost before the first node runs.
func BenchmarkLoadCompile100k(b *testing.B) {
	data := chainYAML(100_000)
	b.ReportAllocs()
	for b.Loop() {
		mustPlan(b, data)
	}
}

// BenchmarkSchedulerNoop100k isolates the scheduler: the same 100,000-node
// chain, every node an action that returns at once, so ns/node is the
// scheduler's own overhead (readiness, the heap, inputs, the record).
func BenchmarkSchedulerNoop100k(b *testing.B) {
	w, err := dag.Load("bench.yaml", chainYAML(100_000), dag.YAML)
	if err != nil {
		b.Fatal(err)
	}
	res := &dag.Result{Value: 1}
	noop := dag.ActionFunc(func(context.Context, *dag.Invocation) (*dag.Result, error) { return res, nil })
	p, err := dag.Compile(w, func(*dag.Node) (dag.Action, error) { return noop, nil })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Run(context.Background(), dag.RunOptions{Jobs: 2}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/node")
}
