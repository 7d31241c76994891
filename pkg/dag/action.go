package dag

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// An Action is the compiled, runnable form of one node. Compilation happens
// once per node per process; Run may be called once per run.
type Action interface {
	Run(ctx context.Context, inv *Invocation) (*Result, error)
}

// ActionFunc adapts a function to Action.
type ActionFunc func(ctx context.Context, inv *Invocation) (*Result, error)

// Run calls f.
func (f ActionFunc) Run(ctx context.Context, inv *Invocation) (*Result, error) { return f(ctx, inv) }

// A Compiler turns a node into its Action, reporting bad configuration
// (an unknown built-in, an expression that does not compile) as an error.
type Compiler func(n *Node) (Action, error)

// BranchOutputs is implemented by actions of control nodes whose outputs are
// branches fixed by the kind (a condition's true and false), so that
// references to them validate without being declared.
type BranchOutputs interface {
	Branches() []string
}

// Invocation is what an action gets to run: its node, its inputs and the
// places to put what it makes.
type Invocation struct {
	Node *Node
	// Inputs maps each input name to its value. With join: any, inputs whose
	// upstream had not finished are absent.
	Inputs map[string]any
	// Dir is the absolute directory the node runs in.
	Dir string
	// Environ is the base environment for processes (the caller's, usually).
	Environ []string
	// Stdout and Stderr, when set, also receive what a process node writes,
	// as it writes it (see RunOptions.Log).
	Stdout, Stderr io.Writer

	files *nodeFiles
}

// nodeFiles is a run's directory of node files, made on first use so that
// runs of in-process nodes never touch the disk for it.
type nodeFiles struct {
	dir  string // RUN/nodes, or a temp dir when runs are not recorded
	temp bool
	once sync.Once
	err  error
}

func (f *nodeFiles) ensure() error {
	f.once.Do(func() {
		if f.temp {
			f.dir, f.err = os.MkdirTemp("", "fastdag-run-")
			return
		}
		f.err = os.MkdirAll(f.dir, 0o755)
	})
	return f.err
}

// File returns the path of this node's file called name ("stdout",
// "outputs", ...) in the run's nodes directory, NODE.NAME, and the same
// path relative to the run directory, as the record keeps it. Process
// nodes keep their logs and exchange files there; the files are part of
// the run record. Files of all nodes sit side by side, so a node that
// writes none costs no directory.
func (inv *Invocation) File(name string) (path, rel string, err error) {
	if inv.files == nil {
		inv.files = &nodeFiles{temp: true}
	}
	if err := inv.files.ensure(); err != nil {
		return "", "", err
	}
	base := inv.Node.Name + "." + name
	return filepath.Join(inv.files.dir, base), "nodes/" + base, nil
}

// Result is what a node produced.
type Result struct {
	// Value is the default output: what "node" refers to.
	Value any
	// Outputs holds named outputs: what "node.name" refers to.
	Outputs map[string]any
	// Branch is, for control nodes, the one output whose dependents run;
	// dependents of the other outputs are skipped.
	Branch string
	// ExitCode is the process exit code, for process nodes.
	ExitCode *int
	// MaxRSS is the peak resident set size of a process node, in bytes.
	MaxRSS int64
	// Stdout and Stderr are the log files, relative to the run directory.
	Stdout, Stderr string
	// Cache says what the cache did: "hit" (nothing ran), "miss" or
	// "stored"; CacheKey names the entry.
	Cache, CacheKey string
}

// NodeError is a node's failure, naming the node and what it was doing.
type NodeError struct {
	Node string
	Op   string // "run", "compile", "timeout", ...
	Err  error
}

func (e *NodeError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("node %s: %v", e.Node, e.Err)
	}
	return fmt.Sprintf("node %s: %s: %v", e.Node, e.Op, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }
