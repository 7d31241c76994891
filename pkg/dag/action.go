package dag

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

	scratchRoot string
	scratch     string
	scratchErr  error
}

// Scratch returns a directory private to this node in this run, creating it
// on first use. Process nodes keep their logs and exchange files there; it
// is part of the run record. In-process nodes never pay for it. Like the
// rest of an Invocation, it is for the one goroutine running the node.
func (inv *Invocation) Scratch() (string, error) {
	if inv.scratch == "" && inv.scratchErr == nil {
		if inv.scratchRoot == "" {
			inv.scratch, inv.scratchErr = os.MkdirTemp("", "fastdag-node-")
		} else {
			inv.scratch = filepath.Join(inv.scratchRoot, inv.Node.Name)
			inv.scratchErr = os.MkdirAll(inv.scratch, 0o755)
		}
	}
	return inv.scratch, inv.scratchErr
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
