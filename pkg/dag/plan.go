package dag

import (
	"fmt"
	"sort"
	"strings"
)

// Plan is a validated workflow compiled into an indexed graph: every node
// has its Action, its edges and its priority. Building it is linear in the
// number of nodes and edges; running it never scans the graph.
type Plan struct {
	Workflow *Workflow
	nodes    []planNode
	edges    []edge
	index    map[string]int32
}

type planNode struct {
	node   *Node
	action Action
	in     []int32 // incoming edge ids
	out    []int32 // outgoing edge ids
	// prio is the length of the longest path from this node to a sink,
	// counting nodes: the scheduler runs the critical path first.
	prio int32
	// branches are the outputs of a control node, one of which is taken.
	branches []string
}

// edge is one dependency. input is the input it feeds ("" for needs:).
type edge struct {
	from, to int32
	output   string
	input    string
}

// Edge is an edge of the plan, for pictures and tools.
type Edge struct {
	From, To string
	Output   string // the upstream output ("" is the default output)
	Input    string // the input it feeds ("" for an ordering-only needs: edge)
}

// Compile validates w and compiles every node with compile. It reports all
// problems at once: unknown nodes, outputs and params in references (with
// suggestions), bad node configuration, and cycles with their path.
func Compile(w *Workflow, compile Compiler) (*Plan, error) {
	p := &Plan{Workflow: w, nodes: make([]planNode, len(w.Nodes)), index: make(map[string]int32, len(w.Nodes))}
	var probs Problems
	for i, n := range w.Nodes {
		p.index[n.Name] = int32(i)
		p.nodes[i].node = n
	}
	names := make([]string, len(w.Nodes))
	for i, n := range w.Nodes {
		names[i] = n.Name
	}
	paramNames := make([]string, len(w.Params))
	for i, pr := range w.Params {
		paramNames[i] = pr.Name
	}

	// Compile first: control nodes tell their branch outputs.
	for i, n := range w.Nodes {
		if n.Kind == "" {
			continue // the loader reported it
		}
		a, err := compile(n)
		if err != nil {
			key := string(n.Kind) // the key that made the node's kind
			if n.Kind == KindShell {
				key = "run"
			}
			probs.add(n.posOf(key), "node %q: %v", n.Name, err)
			continue
		}
		p.nodes[i].action = a
		if b, ok := a.(BranchOutputs); ok {
			p.nodes[i].branches = b.Branches()
		}
	}

	addEdge := func(to int32, ref Ref, input string, pos Pos) {
		n := w.Nodes[to]
		what := fmt.Sprintf("node %q", n.Name)
		if input != "" {
			what += fmt.Sprintf(": input %q", input)
		} else {
			what += ": needs"
		}
		if ref.IsParam() {
			if input == "" {
				probs.add(pos, "%s: cannot wait on a param (%s); use inputs to read it", what, ref)
			} else if w.Param(ref.Output) == nil {
				probs.add(pos, "%s references unknown param %q%s; declared params: %s", what, ref.Output, DidYouMean(ref.Output, paramNames), listOrNone(paramNames))
			}
			return
		}
		from, ok := p.index[ref.Node]
		if !ok {
			probs.add(pos, "%s references unknown node %q%s", what, ref.Node, DidYouMean(ref.Node, names))
			return
		}
		if ref.Output != "" && !p.hasOutput(from, ref.Output) {
			up := w.Nodes[from]
			outs := p.outputsOf(from)
			probs.add(pos, "%s references unknown output %q of node %q%s; its outputs: %s", what, ref.Output, up.Name, DidYouMean(ref.Output, outs), listOrNone(outs))
			return
		}
		id := int32(len(p.edges))
		p.edges = append(p.edges, edge{from: from, to: to, output: ref.Output, input: input})
		p.nodes[to].in = append(p.nodes[to].in, id)
		p.nodes[from].out = append(p.nodes[from].out, id)
	}
	for i, n := range w.Nodes {
		seen := map[string]bool{}
		for _, in := range n.Inputs {
			if seen[in.Name] {
				probs.add(in.Pos, "node %q: input %q bound twice", n.Name, in.Name)
			}
			seen[in.Name] = true
			addEdge(int32(i), in.Ref, in.Name, in.Pos)
		}
		for _, ref := range n.Needs {
			addEdge(int32(i), ref, "", n.posOf("needs"))
		}
		if n.Cache != nil {
			for _, k := range n.Cache.Key {
				if !seen[k] {
					probs.add(n.Cache.Pos, "node %q: cache key %q is not an input of the node%s; inputs: %s", n.Name, k, DidYouMean(k, inputNames(n)), listOrNone(inputNames(n)))
				}
			}
		}
		checkCachePolicy(w, n, &probs)
	}
	if cyc := p.prioritize(); cyc != nil {
		first := w.Nodes[cyc[0]]
		lines := make([]string, len(cyc))
		for i, c := range cyc {
			lines[i] = "\t" + w.Nodes[c].Name
		}
		probs.add(first.Pos, "dependency cycle:\n%s", strings.Join(lines, "\n"))
	}
	if len(probs) > 0 {
		probs.sort()
		return nil, probs
	}
	return p, nil
}

func inputNames(n *Node) []string {
	out := make([]string, len(n.Inputs))
	for i, in := range n.Inputs {
		out[i] = in.Name
	}
	return out
}

func (p *Plan) hasOutput(i int32, out string) bool {
	for _, b := range p.nodes[i].branches {
		if b == out {
			return true
		}
	}
	return p.nodes[i].node.HasOutput(out)
}

func (p *Plan) outputsOf(i int32) []string {
	outs := append([]string(nil), p.nodes[i].branches...)
	for _, o := range p.nodes[i].node.Outputs {
		if !contains(outs, o) {
			outs = append(outs, o)
		}
	}
	return outs
}

// prioritize computes every node's priority in reverse topological order
// (Kahn's algorithm over the out-edges). It returns a cycle, as node
// indices starting and ending at the same node, when there is one.
func (p *Plan) prioritize() []int32 {
	n := len(p.nodes)
	pending := make([]int32, n) // unresolved out-edges per node
	var queue []int32
	for i := range p.nodes {
		pending[i] = int32(len(p.nodes[i].out))
		if pending[i] == 0 {
			queue = append(queue, int32(i))
		}
	}
	done := 0
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		done++
		pn := &p.nodes[i]
		pn.prio++ // itself
		for _, e := range pn.in {
			up := p.edges[e].from
			p.nodes[up].prio = max(p.nodes[up].prio, pn.prio)
			if pending[up]--; pending[up] == 0 {
				queue = append(queue, up)
			}
		}
	}
	if done == n {
		return nil
	}
	return p.findCycle(pending)
}

// findCycle walks from any node still pending (which lies on or before a
// cycle) along pending edges until a node repeats.
func (p *Plan) findCycle(pending []int32) []int32 {
	start := int32(-1)
	for i := range pending {
		if pending[i] > 0 {
			start = int32(i)
			break
		}
	}
	pos := map[int32]int{}
	var path []int32
	for cur := start; ; {
		if at, ok := pos[cur]; ok {
			return append(path[at:], cur)
		}
		pos[cur] = len(path)
		path = append(path, cur)
		// Follow the first out-edge to a node that is still pending: every
		// pending node has one, since its count never reached zero.
		next := int32(-1)
		outs := append([]int32(nil), p.nodes[cur].out...)
		sort.Slice(outs, func(a, b int) bool { return p.edges[outs[a]].to < p.edges[outs[b]].to })
		for _, e := range outs {
			if to := p.edges[e].to; pending[to] > 0 {
				next = to
				break
			}
		}
		if next < 0 {
			return path
		}
		cur = next
	}
}

// Edges lists the plan's edges in node order, then input order.
func (p *Plan) Edges() []Edge {
	out := make([]Edge, 0, len(p.edges))
	for i := range p.nodes {
		for _, e := range p.nodes[i].in {
			ed := p.edges[e]
			out = append(out, Edge{From: p.nodes[ed.from].node.Name, To: p.nodes[ed.to].node.Name, Output: ed.output, Input: ed.input})
		}
	}
	return out
}

// Branches returns the branch outputs of a control node, or nil.
func (p *Plan) Branches(node string) []string {
	if i, ok := p.index[node]; ok {
		return p.nodes[i].branches
	}
	return nil
}

// selection computes which nodes a partial run executes. from and until
// may be combined (run_between); only lists nodes exactly.
func (p *Plan) selection(from, until, only []string) ([]bool, error) {
	n := len(p.nodes)
	sel := make([]bool, n)
	if len(from) == 0 && len(until) == 0 && len(only) == 0 {
		for i := range sel {
			sel[i] = true
		}
		return sel, nil
	}
	lookup := func(flag string, names []string) ([]int32, error) {
		var ids []int32
		for _, name := range names {
			i, ok := p.index[name]
			if !ok {
				all := make([]string, n)
				for j := range p.nodes {
					all[j] = p.nodes[j].node.Name
				}
				return nil, fmt.Errorf("%s: unknown node %q%s", flag, name, DidYouMean(name, all))
			}
			ids = append(ids, i)
		}
		return ids, nil
	}
	walk := func(start []int32, down bool) []bool {
		seen := make([]bool, n)
		stack := append([]int32(nil), start...)
		for _, s := range start {
			seen[s] = true
		}
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			es := p.nodes[i].in
			if down {
				es = p.nodes[i].out
			}
			for _, e := range es {
				j := p.edges[e].from
				if down {
					j = p.edges[e].to
				}
				if !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		return seen
	}
	if len(only) > 0 {
		if len(from)+len(until) > 0 {
			return nil, fmt.Errorf("--only lists the nodes exactly; it cannot be combined with --from or --until")
		}
		ids, err := lookup("--only", only)
		if err != nil {
			return nil, err
		}
		for _, i := range ids {
			sel[i] = true
		}
		return sel, nil
	}
	for i := range sel {
		sel[i] = true
	}
	if len(from) > 0 {
		ids, err := lookup("--from", from)
		if err != nil {
			return nil, err
		}
		down := walk(ids, true)
		for i := range sel {
			sel[i] = sel[i] && down[i]
		}
	}
	if len(until) > 0 {
		ids, err := lookup("--until", until)
		if err != nil {
			return nil, err
		}
		up := walk(ids, false)
		for i := range sel {
			sel[i] = sel[i] && up[i]
		}
	}
	return sel, nil
}
