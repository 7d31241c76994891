package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Graph is the input of every renderer: a workflow's nodes and edges,
// optionally overlaid with one run's results (Node.Run). The caller fills it
// from the workflow model and the run record; pkg/render knows nothing of the
// engine.
type Graph struct {
	Name        string
	Description string
	// Direction is the layout direction: TB (default), LR, BT or RL.
	// Options.Direction overrides it.
	Direction string
	// Nodes in a deterministic order (e.g. declaration order); renderers
	// keep this order.
	Nodes []Node
	// Edges in any order; renderers sort them by (From, To) node position,
	// then FromOutput, ToInput and Kind, and drop exact duplicates.
	Edges  []Edge
	Styles Styles
}

// Node kinds with a distinct shape. Other kinds (e.g. "builtin:<name>") are
// accepted too.
const (
	KindShell     = "shell"
	KindExec      = "exec"
	KindExpr      = "expr"
	KindCondition = "condition" // branch outputs "true" and "false"
	KindSelect    = "select"    // named branch outputs
)

// Node is one workflow node.
type Node struct {
	Name    string
	Kind    string // shell|exec|expr|condition|select|builtin:<name>|...
	Command string // shown as a tooltip (DOT/SVG) and in the JSON formats
	Join    string // all|any ("" = all)
	Outputs []string
	Run     *NodeRun // nil when there is no run overlay
}

// Run statuses that get a colour. Other values are shown without one.
const (
	StatusSuccess   = "success"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusCached    = "cached"
	StatusNotRun    = "not_run"
	StatusRunning   = "running"
	StatusCancelled = "cancelled"
)

// NodeRun is one node's result in a run.
type NodeRun struct {
	Status       string // success|failed|skipped|cached|not_run|running|cancelled
	Duration     time.Duration
	PeakMemBytes int64             // 0 = unknown
	Cache        string            // hit|miss|stored|""
	ExitCode     *int              // nil = unknown / not a process
	Outputs      map[string]string // output name -> short preview
	Error        string
}

// Edge kinds.
const (
	EdgeData   = "data"   // FromOutput feeds ToInput (solid)
	EdgeOrder  = "order"  // ordering only (dashed)
	EdgeBranch = "branch" // a condition/select branch: FromOutput is the branch name
)

// Edge connects From to To (To depends on From).
type Edge struct {
	From, To            string
	FromOutput, ToInput string
	Kind                string // data|order|branch ("" = data)
}

// Styles are the workflow's `viz:` styles, keyed by node name and by
// [from, to] edge. Keys are Graphviz attribute names (fillcolor, color,
// fontcolor, penwidth, style, shape, ...), passed verbatim to DOT; the CSS
// names fill, stroke, stroke-width and stroke-dasharray are accepted too.
// Mermaid gets the translation (fillcolor->fill, color->stroke,
// fontcolor->color, penwidth->stroke-width, style=dashed/dotted ->
// stroke-dasharray); keys Mermaid has no equivalent for are ignored there.
type Styles struct {
	Nodes map[string]map[string]string
	Edges map[[2]string]map[string]string
}

// Options control rendering. The zero value renders with defaults.
type Options struct {
	// Direction overrides Graph.Direction (TB, LR, BT, RL).
	Direction string
	// Engine is the Graphviz layout engine for svg/png/pdf ("" = dot).
	Engine string
	// GraphAttrs, NodeAttrs and EdgeAttrs are Graphviz graph/node/edge
	// defaults (the CLI's --graph-attr/--node-attr/--edge-attr k=v); they
	// override fastdag's defaults in DOT, and so in svg/png/pdf.
	GraphAttrs, NodeAttrs, EdgeAttrs map[string]string
	// FromSources puts sources at the root of the terminal tree (children
	// are dependents) instead of sinks (children are dependencies).
	FromSources bool
	// Label is a text/template for node labels; see the package doc for the
	// fields. "" = the default label.
	Label string
	// Color enables ANSI status colours in the terminal tree.
	Color bool
}

// Formats returns the output formats Render accepts.
func Formats() []string {
	return []string{"mermaid", "dot", "svg", "png", "pdf", "tree", "d3", "cytoscape"}
}

// GraphvizFormats returns the formats produced by the Graphviz helper.
func GraphvizFormats() []string { return []string{"svg", "png", "pdf"} }

// Engines returns the Graphviz layout engines.
func Engines() []string { return []string{"dot", "neato", "fdp", "sfdp", "twopi", "circo"} }

// Directions returns the layout directions.
func Directions() []string { return []string{"TB", "LR", "BT", "RL"} }

func oneOf(what, v string, valid []string) error {
	if slices.Contains(valid, v) {
		return nil
	}
	return fmt.Errorf("unknown %s %q (valid: %s)", what, v, strings.Join(valid, ", "))
}

// ValidateFormat returns an error listing the valid formats if format is not one.
func ValidateFormat(format string) error { return oneOf("format", format, Formats()) }

// ValidateEngine returns an error listing the valid engines if engine is not
// one. "" is valid (dot).
func ValidateEngine(engine string) error {
	if engine == "" {
		return nil
	}
	return oneOf("layout engine", engine, Engines())
}

// ValidateDirection returns an error listing the valid directions. "" is
// valid (TB). Lower case is accepted.
func ValidateDirection(dir string) error {
	if dir == "" {
		return nil
	}
	return oneOf("direction", strings.ToUpper(dir), Directions())
}

// ParseAttrs parses "key=value" strings (the CLI's --graph-attr etc.) into a
// map; a later key overrides an earlier one.
func ParseAttrs(kvs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("bad attribute %q: want key=value", kv)
		}
		m[k] = v
	}
	return m, nil
}

// model is a validated graph with sorted edges and precomputed labels.
type model struct {
	g      *Graph
	opts   Options
	index  map[string]int
	edges  []Edge
	labels []string // per node, may contain '\n'
	hasRun bool
	dir    string
	in     [][]int // in[i] = indexes of nodes with an edge to i (sorted, unique)
	out    [][]int
}

func newModel(g *Graph, opts Options) (*model, error) {
	if g == nil {
		return nil, fmt.Errorf("render: nil graph")
	}
	m := &model{g: g, opts: opts, index: make(map[string]int, len(g.Nodes))}
	for i, n := range g.Nodes {
		if n.Name == "" {
			return nil, fmt.Errorf("render: node %d has no name", i)
		}
		if _, dup := m.index[n.Name]; dup {
			return nil, fmt.Errorf("render: duplicate node %q", n.Name)
		}
		m.index[n.Name] = i
		if n.Run != nil {
			m.hasRun = true
		}
	}
	m.dir = cmp.Or(opts.Direction, g.Direction, "TB")
	if err := ValidateDirection(m.dir); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	m.dir = strings.ToUpper(m.dir)
	if err := ValidateEngine(opts.Engine); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	for _, e := range g.Edges {
		for _, end := range []string{e.From, e.To} {
			if _, ok := m.index[end]; !ok {
				return nil, fmt.Errorf("render: edge %s -> %s: unknown node %q", e.From, e.To, end)
			}
		}
		if e.Kind == "" {
			e.Kind = EdgeData
		}
		m.edges = append(m.edges, e)
	}
	slices.SortStableFunc(m.edges, func(a, b Edge) int {
		return cmp.Or(
			cmp.Compare(m.index[a.From], m.index[b.From]),
			cmp.Compare(m.index[a.To], m.index[b.To]),
			cmp.Compare(a.FromOutput, b.FromOutput),
			cmp.Compare(a.ToInput, b.ToInput),
			cmp.Compare(a.Kind, b.Kind))
	})
	m.edges = slices.Compact(m.edges)
	m.in = make([][]int, len(g.Nodes))
	m.out = make([][]int, len(g.Nodes))
	for _, e := range m.edges {
		f, t := m.index[e.From], m.index[e.To]
		m.out[f] = append(m.out[f], t)
		m.in[t] = append(m.in[t], f)
	}
	for i := range g.Nodes {
		slices.Sort(m.in[i])
		m.in[i] = slices.Compact(m.in[i])
		slices.Sort(m.out[i])
		m.out[i] = slices.Compact(m.out[i])
	}
	labels, err := nodeLabels(g, opts.Label)
	if err != nil {
		return nil, err
	}
	m.labels = labels
	return m, nil
}

// edgeLabel is the text shown on an edge: the branch or output name, plus
// "→ input" when it feeds a differently named input.
func edgeLabel(e Edge) string {
	switch {
	case e.FromOutput != "" && e.ToInput != "" && e.ToInput != e.FromOutput:
		return e.FromOutput + " → " + e.ToInput
	case e.FromOutput != "":
		return e.FromOutput
	}
	return e.ToInput
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// statusOf returns the node's run status or "".
func statusOf(n *Node) string {
	if n.Run == nil {
		return ""
	}
	return n.Run.Status
}
