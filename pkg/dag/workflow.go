package dag

import (
	"fmt"
	"time"
)

// FormatVersion is the workflow format version this package reads and writes.
const FormatVersion = 1

// Workflow is a loaded workflow file. Nodes and Params keep the order they
// had in the file so that conversions and pictures are stable.
type Workflow struct {
	Version     int
	Name        string
	Description string
	Params      []*Param
	Nodes       []*Node
	// Viz holds the optional styling section for pictures, kept as loaded.
	Viz *Viz
	// Cache is the default cache policy for nodes that set none.
	Cache *CacheSpec

	// File is the path the workflow was loaded from ("-" for stdin).
	File string
	// Dir is the directory that relative paths and commands resolve against.
	Dir string
	// Pos is where the document starts.
	Pos Pos

	byName map[string]*Node
}

// Node returns the node called name, or nil.
func (w *Workflow) Node(name string) *Node {
	if w.byName == nil {
		w.index()
	}
	return w.byName[name]
}

// Param returns the parameter called name, or nil.
func (w *Workflow) Param(name string) *Param {
	for _, p := range w.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (w *Workflow) index() {
	w.byName = make(map[string]*Node, len(w.Nodes))
	for _, n := range w.Nodes {
		if _, dup := w.byName[n.Name]; !dup {
			w.byName[n.Name] = n
		}
	}
}

// Param declares a workflow parameter. Type is one of string, int, float,
// bool or json; when empty it is taken from the default's type (string
// when there is no default).
type Param struct {
	Name        string
	Type        string
	Default     any
	HasDefault  bool
	Description string
	Required    bool
	Pos         Pos
}

// Kind says how a node runs.
type Kind string

const (
	KindShell Kind = "shell" // run: text, through sh -c
	KindExec  Kind = "exec"  // exec: argv, no shell
	KindUses  Kind = "uses"  // uses: a built-in run in-process
)

// Join says when a node with several upstream edges becomes ready.
const (
	JoinAll = "all" // every upstream finished (default)
	JoinAny = "any" // the first upstream that finished successfully
)

// Node is one step of a workflow.
type Node struct {
	Name        string
	Description string
	Kind        Kind
	Run         string   // shell text, KindShell
	Exec        []string // argv, KindExec
	Uses        string   // built-in name, KindUses
	With        map[string]any
	Inputs      []Input // in file order
	Needs       []Ref
	Env         []EnvVar // in file order
	Outputs     []string // declared named outputs
	Output      string   // "text" (default) or "json": how stdout becomes the default output
	Timeout     time.Duration
	Join        string     // JoinAll or JoinAny; "" means JoinAll
	Dir         string     // working directory, relative to the workflow's Dir
	Cache       *CacheSpec // nil: the workflow's default
	Sources     []string   // file globs whose content is part of the cache key

	Pos Pos
	// KindPos and NeedsPos say where the run/exec/uses key and the needs
	// key were written, for messages. (Two fields, not a map of every key:
	// a map per node was a fifth of a large workflow's memory.)
	KindPos, NeedsPos Pos
}

// Input binds a named input to a reference.
type Input struct {
	Name string
	Ref  Ref
	Pos  Pos
}

// EnvVar is one declared environment variable.
type EnvVar struct {
	Name, Value string
}

// HasOutput reports whether out is a declared named output of n.
func (n *Node) HasOutput(out string) bool {
	for _, o := range n.Outputs {
		if o == out {
			return true
		}
	}
	return false
}

// posOf returns where key was written in n, or n's own position.
func (n *Node) posOf(key string) Pos {
	p := n.Pos
	switch key {
	case "needs":
		p = n.NeedsPos
	case "run", "exec", "uses":
		p = n.KindPos
	}
	if p.Line == 0 {
		return n.Pos
	}
	return p
}

// IsBranch reports whether n is a control node whose outputs are branches,
// of which exactly one is taken per run.
func (n *Node) IsBranch() bool {
	return n.Kind == KindUses && (n.Uses == "condition" || n.Uses == "select")
}

// CacheSpec is a node's cache policy. "cache: true" is Enabled with the
// defaults; "cache: false" turns a workflow default off for one node.
type CacheSpec struct {
	Enabled bool
	TTL     time.Duration // 0: until invalidated or collected
	Key     []string      // input names that make up the key; nil: all inputs
	Version string        // bump to start a fresh cache
	When    string        // expression over the inputs; cache only when true
	Pos     Pos
}

// Viz is the workflow's optional picture styling: Graphviz/Mermaid style
// attributes by node name and by "from->to" edge.
type Viz struct {
	Direction string
	Nodes     map[string]map[string]string
	Edges     map[string]map[string]string
}

// Pos is a position in a workflow file. Line and Col are 1-based; zero
// means the format has no positions (msgpack).
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}
