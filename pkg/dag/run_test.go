package dag_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/fastdag/fastdag/pkg/dag"
)

// fakes compiles every node to an in-process action that logs its name,
// fails when the node is "uses: fail", and takes branch "yes" for
// "uses: pick".
type fakes struct {
	mu  sync.Mutex
	ran []string
}

type picker struct{ dag.ActionFunc }

func (picker) Branches() []string { return []string{"yes", "no"} }

func (f *fakes) compile(n *dag.Node) (dag.Action, error) {
	run := func(ctx context.Context, inv *dag.Invocation) (*dag.Result, error) {
		f.mu.Lock()
		f.ran = append(f.ran, n.Name)
		f.mu.Unlock()
		switch n.Uses {
		case "fail":
			return nil, errors.New("boom")
		case "block":
			<-ctx.Done()
			return nil, ctx.Err()
		case "panic":
			panic("oops")
		case "pick":
			return &dag.Result{Value: "yes", Branch: "yes", Outputs: map[string]any{"yes": 1}}, nil
		}
		return &dag.Result{Value: n.Name}, nil
	}
	if n.Uses == "pick" {
		return picker{run}, nil
	}
	return dag.ActionFunc(run), nil
}

func plan(t *testing.T, f *fakes, src string) *dag.Plan {
	t.Helper()
	w, err := dag.Load("t.yaml", []byte("version: 1\nnodes:\n"+src), dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dag.Compile(w, f.compile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func statuses(rec *dag.Record) string {
	var parts []string
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if n, ok := rec.Nodes[name]; ok {
			parts = append(parts, name+"="+string(n.Status))
		}
	}
	return strings.Join(parts, " ")
}

// At -j1 the node on the longest path to a sink goes first, whatever the
// file order.
func TestCriticalPathFirst(t *testing.T) {
	f := &fakes{}
	p := plan(t, f, `
  a: {uses: x}
  b: {uses: x}
  c: {uses: x, needs: [b]}
  d: {uses: x, needs: [c]}
`)
	if _, err := p.Run(context.Background(), dag.RunOptions{Jobs: 1}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.ran, ","); got != "b,c,a,d" {
		t.Errorf("order = %s, want b,c,a,d (critical path first, ties in file order)", got)
	}
}

func TestBranchSkipAndJoinAny(t *testing.T) {
	f := &fakes{}
	p := plan(t, f, `
  a: {uses: pick}
  b: {uses: x, needs: [a.yes]}
  c: {uses: x, needs: [a.no]}
  d: {uses: x, needs: [b, c], join: any}
  e: {uses: x, needs: [c]}
`)
	rec, err := p.Run(context.Background(), dag.RunOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(rec), "a=success b=success c=skipped d=success e=skipped"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestFailFastAndKeepGoing(t *testing.T) {
	src := `
  a: {uses: fail}
  b: {uses: x, needs: [a]}
  c: {uses: x}
  d: {uses: x, needs: [c]}
`
	f := &fakes{}
	rec, err := plan(t, f, src).Run(context.Background(), dag.RunOptions{Jobs: 1})
	if !errors.Is(err, dag.ErrNodesFailed) {
		t.Fatalf("err = %v", err)
	}
	// At -j1, a (priority 2, first in file) runs first and stops the run.
	if got, want := statuses(rec), "a=failed b=not_run c=not_run d=not_run"; got != want {
		t.Errorf("fail fast: got %s\nwant %s", got, want)
	}
	f = &fakes{}
	rec, _ = plan(t, f, src).Run(context.Background(), dag.RunOptions{Jobs: 1, KeepGoing: true})
	if got, want := statuses(rec), "a=failed b=not_run c=success d=success"; got != want {
		t.Errorf("keep going: got %s\nwant %s", got, want)
	}
}

// A failure cancels nodes that are running at the time.
func TestFailureCancelsRunning(t *testing.T) {
	f := &fakes{}
	p := plan(t, f, `
  a: {uses: block}
  b: {uses: fail, needs: [c]}
  c: {uses: x}
`)
	rec, _ := p.Run(context.Background(), dag.RunOptions{Jobs: 2})
	if got, want := statuses(rec), "a=cancelled b=failed c=success"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestPartialRunReusesRecord(t *testing.T) {
	f := &fakes{}
	p := plan(t, f, `
  a: {uses: x}
  b: {uses: x, inputs: {in: a}}
  c: {uses: x, inputs: {in: b}}
`)
	_, err := p.Run(context.Background(), dag.RunOptions{From: []string{"b"}, Previous: &dag.Record{}})
	if err == nil || !strings.Contains(err.Error(), "run a first") {
		t.Fatalf("without a record: err = %v", err)
	}
	prev, err := p.Run(context.Background(), dag.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.ran = nil
	rec, err := p.Run(context.Background(), dag.RunOptions{From: []string{"b"}, Until: []string{"b"}, Previous: prev})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.ran, ","); got != "b" {
		t.Errorf("ran %s, want b", got)
	}
	if rec.Partial.Reused["a"] != prev.ID {
		t.Errorf("reused = %v", rec.Partial.Reused)
	}
}

func TestCycleError(t *testing.T) {
	w, err := dag.Load("t.yaml", []byte("version: 1\nnodes:\n  a: {uses: x, needs: [c]}\n  b: {uses: x, needs: [a]}\n  c: {uses: x, needs: [b]}\n  d: {uses: x, needs: [a]}\n"), dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dag.Compile(w, (&fakes{}).compile)
	want := "t.yaml:3:3: dependency cycle:\n\ta\n\tb\n\tc\n\ta"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// A panicking action fails its node; the run goes on to its record.
func TestPanickingNodeFails(t *testing.T) {
	f := &fakes{}
	rec, err := plan(t, f, `
  a: {uses: panic}
  b: {uses: x}
`).Run(context.Background(), dag.RunOptions{Jobs: 1, KeepGoing: true})
	if !errors.Is(err, dag.ErrNodesFailed) {
		t.Fatalf("err = %v", err)
	}
	if got, want := statuses(rec), "a=failed b=success"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if e := rec.Nodes["a"].Error; !strings.Contains(e, "internal error: oops") {
		t.Errorf("error = %q", e)
	}
}
