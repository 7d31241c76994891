package dag

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// The keys each mapping accepts. Unknown keys are errors with a suggestion,
// because a misspelt key silently ignored is a workflow that lies.
var (
	workflowKeys = []string{"version", "name", "description", "params", "nodes", "viz", "cache"}
	paramKeys    = []string{"default", "type", "description", "required"}
	nodeKeys     = []string{"description", "run", "exec", "uses", "with", "inputs", "needs", "env",
		"outputs", "output", "timeout", "join", "dir", "cache", "sources"}
	cacheKeys = []string{"ttl", "key", "version", "when"}
	vizKeys   = []string{"direction", "nodes", "edges"}
)

// ParamTypes lists the accepted param types.
var ParamTypes = []string{"string", "int", "float", "bool", "json"}

// decoder walks a yaml.Node tree into a Workflow, collecting every problem
// instead of stopping at the first.
type decoder struct {
	file     string
	problems Problems
	// chunks, when set, hold the nodes of a large document cut apart
	// (chunk.go); the tree's own nodes value is then empty.
	chunks []nodeChunk
	// streamed says the parser already handed over the nodes, one at a
	// time as it read them (JSON and msgpack), and pre holds them.
	streamed bool
	pre      []*Node
	first    map[string]int
}

// streamNode decodes one entry of the nodes mapping as the parser reads it.
func (d *decoder) streamNode(k, v *yaml.Node) {
	if d.first == nil {
		d.first = map[string]int{}
	}
	d.streamed = true
	if n := d.nodeEntry(d.first, k, v); n != nil {
		d.pre = append(d.pre, n)
	}
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.problems.add(d.pos(n), format, args...)
}

// mapping iterates a mapping node's pairs, reporting unknown and duplicate
// keys. what names the mapping in messages.
func (d *decoder) mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping, found %s", what, kindName(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be strings", what)
			continue
		}
		if seen[key] {
			d.errorf(k, "%s: duplicate key %q", what, key)
			continue
		}
		seen[key] = true
		if known != nil && !contains(known, key) {
			d.errorf(k, "%s: unknown key %q%s; known keys: %s", what, key, DidYouMean(key, known), strings.Join(known, ", "))
			continue
		}
		fn(key, k, v)
	}
}

func (d *decoder) workflow(root *yaml.Node) *Workflow {
	w := &Workflow{Pos: d.pos(root)}
	var haveVersion, haveNodes bool
	d.mapping(root, "workflow", workflowKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			haveVersion = true
			n, ok := d.int(v, "version")
			if ok && n != FormatVersion {
				d.errorf(v, "unsupported workflow version %d: this fastdag reads version %d", n, FormatVersion)
			}
			w.Version = n
		case "name":
			w.Name = d.str(v, "name")
		case "description":
			w.Description = d.str(v, "description")
		case "params":
			w.Params = d.params(v)
		case "nodes":
			haveNodes = true
			switch {
			case d.chunks != nil:
				w.Nodes = d.chunkedNodes()
			case d.streamed:
				w.Nodes = d.pre
				if len(w.Nodes) == 0 && len(d.problems) == 0 {
					d.errorf(v, "nodes: a workflow needs at least one node")
				}
			default:
				w.Nodes = d.nodes(v)
			}
		case "viz":
			w.Viz = d.viz(v)
		case "cache":
			w.Cache = d.cache(v, "workflow cache")
		}
	})
	if root.Kind == yaml.MappingNode {
		if !haveVersion {
			d.errorf(root, "missing key \"version\": add \"version: %d\"", FormatVersion)
		}
		if !haveNodes {
			d.errorf(root, "missing key \"nodes\": a workflow needs at least one node")
		}
	}
	return w
}

func (d *decoder) params(n *yaml.Node) []*Param {
	var ps []*Param
	d.mapping(n, "params", nil, func(name string, k, v *yaml.Node) {
		p := &Param{Name: name, Pos: d.pos(k)}
		if !validName(name) || name == ParamsNode {
			d.errorf(k, "invalid param name %q: use letters, digits, '_' and '-'", name)
		}
		if v.Kind != yaml.MappingNode {
			// Shorthand: "region: eu" declares a param with a default.
			p.Default, p.HasDefault = d.value(v), true
		} else {
			what := fmt.Sprintf("param %q", name)
			d.mapping(v, what, paramKeys, func(key string, k, v *yaml.Node) {
				switch key {
				case "default":
					p.Default, p.HasDefault = d.value(v), true
				case "type":
					p.Type = d.str(v, what+" type")
					if p.Type != "" && !contains(ParamTypes, p.Type) {
						d.errorf(v, "%s: unknown type %q%s; known types: %s", what, p.Type, DidYouMean(p.Type, ParamTypes), strings.Join(ParamTypes, ", "))
					}
				case "description":
					p.Description = d.str(v, what+" description")
				case "required":
					p.Required = d.bool(v, what+" required")
				}
			})
		}
		if p.Type == "" {
			p.Type = typeOf(p.Default)
		}
		if p.HasDefault && p.Default != nil {
			if _, err := ConvertParam(p, p.Default); err != nil {
				d.errorf(k, "param %q: default %v", name, err)
			}
		}
		ps = append(ps, p)
	})
	return ps
}

func (d *decoder) nodes(n *yaml.Node) []*Node {
	var ns []*Node
	if n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		d.errorf(n, "nodes: a workflow needs at least one node")
	}
	// Node names are checked for duplicates here, not in mapping, so that
	// the message says "node" and points at both.
	first := map[string]int{}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "nodes: expected a mapping of node name to node, found %s", kindName(n))
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if nd := d.nodeEntry(first, n.Content[i], n.Content[i+1]); nd != nil {
			ns = append(ns, nd)
		}
	}
	return ns
}

// nodeEntry decodes one name: node pair, reporting a name seen before.
// first maps each name to the line it was first defined on.
func (d *decoder) nodeEntry(first map[string]int, k, v *yaml.Node) *Node {
	name := k.Value
	if line, dup := first[name]; dup {
		d.errorf(k, "duplicate node name %q (first defined at line %d)", name, line)
		return nil
	}
	first[name] = k.Line
	return d.node(name, k, v)
}

func (d *decoder) node(name string, k, v *yaml.Node) *Node {
	nd := &Node{Name: name, Pos: d.pos(k)}
	what := fmt.Sprintf("node %q", name)
	switch {
	case name == ParamsNode:
		d.errorf(k, "node name %q is reserved for workflow parameters", name)
	case !validName(name):
		d.errorf(k, "invalid node name %q: start with a letter or '_', then letters, digits, '_' or '-'", name)
	}
	var kinds []string
	d.mapping(v, what, nodeKeys, func(key string, kk, v *yaml.Node) {
		switch key {
		case "run", "exec", "uses":
			nd.KindPos = d.pos(kk)
		case "needs":
			nd.NeedsPos = d.pos(kk)
		}
		switch key {
		case "description":
			nd.Description = d.str(v, what+" description")
		case "run":
			kinds = append(kinds, key)
			nd.Kind, nd.Run = KindShell, d.str(v, what+" run")
		case "exec":
			kinds = append(kinds, key)
			nd.Kind, nd.Exec = KindExec, d.strings(v, what+" exec")
			if v.Kind == yaml.SequenceNode && len(nd.Exec) == 0 {
				d.errorf(v, "%s: exec needs at least the program name", what)
				nd.Kind = "" // reported; not compiled
			}
		case "uses":
			kinds = append(kinds, key)
			nd.Kind, nd.Uses = KindUses, d.str(v, what+" uses")
		case "with":
			if m, ok := d.value(v).(map[string]any); ok {
				nd.With = m
			} else {
				d.errorf(v, "%s: with: expected a mapping of parameters, found %s", what, kindName(v))
			}
		case "inputs":
			d.mapping(v, what+" inputs", nil, func(in string, ik, iv *yaml.Node) {
				if !validName(in) {
					d.errorf(ik, "%s: invalid input name %q", what, in)
				}
				ref, err := ParseRef(d.str(iv, what+" input "+in))
				if err != nil && iv.Kind == yaml.ScalarNode {
					d.errorf(iv, "%s: input %q: %v", what, in, err)
				}
				nd.Inputs = append(nd.Inputs, Input{Name: in, Ref: ref, Pos: d.pos(iv)})
			})
		case "needs":
			for _, s := range d.strings(v, what+" needs") {
				ref, err := ParseRef(s)
				if err != nil {
					d.errorf(v, "%s: needs: %v", what, err)
					continue
				}
				nd.Needs = append(nd.Needs, ref)
			}
		case "env":
			d.mapping(v, what+" env", nil, func(name string, _, ev *yaml.Node) {
				nd.Env = append(nd.Env, EnvVar{Name: name, Value: d.scalarString(ev, what+" env "+name)})
			})
		case "outputs":
			nd.Outputs = d.strings(v, what+" outputs")
			seen := map[string]bool{}
			for _, o := range nd.Outputs {
				if !validName(o) {
					d.errorf(v, "%s: invalid output name %q", what, o)
				}
				if seen[o] {
					d.errorf(v, "%s: output %q declared twice", what, o)
				}
				seen[o] = true
			}
		case "output":
			nd.Output = d.str(v, what+" output")
			if nd.Output != "text" && nd.Output != "json" {
				d.errorf(v, "%s: output: unknown value %q; want text or json", what, nd.Output)
			}
		case "timeout":
			nd.Timeout = d.duration(v, what+" timeout")
		case "join":
			nd.Join = d.str(v, what+" join")
			if nd.Join != JoinAll && nd.Join != JoinAny {
				d.errorf(v, "%s: join: unknown value %q; want all or any", what, nd.Join)
			}
		case "dir":
			nd.Dir = d.str(v, what+" dir")
		case "cache":
			nd.Cache = d.cache(v, what+" cache")
		case "sources":
			nd.Sources = d.strings(v, what+" sources")
		}
	})
	switch {
	case v.Kind != yaml.MappingNode:
	case len(kinds) == 0:
		d.errorf(k, "%s: needs one of run (shell), exec (argv) or uses (built-in)", what)
	case len(kinds) > 1:
		d.errorf(k, "%s: has both %s and %s; a node is exactly one of run, exec or uses", what, kinds[0], kinds[1])
		nd.Kind = "" // reported; not compiled
	}
	return nd
}

func (d *decoder) cache(v *yaml.Node, what string) *CacheSpec {
	c := &CacheSpec{Pos: d.pos(v)}
	if v.Kind == yaml.ScalarNode {
		c.Enabled = d.bool(v, what)
		return c
	}
	c.Enabled = true
	d.mapping(v, what, cacheKeys, func(key string, _, v *yaml.Node) {
		switch key {
		case "ttl":
			c.TTL = d.duration(v, what+" ttl")
		case "key":
			c.Key = d.strings(v, what+" key")
			if c.Key == nil {
				c.Key = []string{}
			}
		case "version":
			c.Version = d.scalarString(v, what+" version")
		case "when":
			c.When = d.str(v, what+" when")
		}
	})
	return c
}

func (d *decoder) viz(v *yaml.Node) *Viz {
	z := &Viz{}
	styles := func(v *yaml.Node, what string) map[string]map[string]string {
		out := map[string]map[string]string{}
		d.mapping(v, what, nil, func(name string, _, sv *yaml.Node) {
			attrs := map[string]string{}
			d.mapping(sv, what+" "+name, nil, func(a string, _, av *yaml.Node) {
				attrs[a] = d.scalarString(av, what+" "+name+" "+a)
			})
			out[name] = attrs
		})
		return out
	}
	d.mapping(v, "viz", vizKeys, func(key string, _, v *yaml.Node) {
		switch key {
		case "direction":
			z.Direction = d.str(v, "viz direction")
		case "nodes":
			z.Nodes = styles(v, "viz nodes")
		case "edges":
			z.Edges = styles(v, "viz edges")
		}
	})
	return z
}

// Scalar helpers. Each reports a type mismatch at the value's position.
