package dag

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// UsesCache reports whether any node of w has a cache policy.
func UsesCache(w *Workflow) bool {
	for _, n := range w.Nodes {
		if CachePolicy(w, n) != nil {
			return true
		}
	}
	return false
}

// CachePolicy returns n's effective cache policy, or nil when n is not
// cached. A node's own cache: settings win over the workflow's default,
// field by field; "cache: false" opts a node out of the default.
func CachePolicy(w *Workflow, n *Node) *CacheSpec {
	d, s := w.Cache, n.Cache
	if d != nil && !d.Enabled {
		d = nil
	}
	switch {
	case s == nil:
		return d
	case !s.Enabled:
		return nil
	case d == nil:
		return s
	}
	m := *s
	if m.TTL == 0 {
		m.TTL = d.TTL
	}
	if m.Key == nil {
		m.Key = d.Key
	}
	if m.Version == "" {
		m.Version = d.Version
	}
	if m.When == "" {
		m.When = d.When
	}
	return &m
}

// KeyedInputs returns the names of n's inputs that are part of its cache
// key under policy p: all inputs, or those listed in key:.
func KeyedInputs(n *Node, p *CacheSpec) []string {
	var names []string
	for _, in := range n.Inputs {
		if p.Key == nil || slices.Contains(p.Key, in.Name) {
			names = append(names, in.Name)
		}
	}
	return names
}

// When evaluates n's when: expression over inputs. A node without one is
// always cached.
func (c *Cache) When(n *Node, inputs map[string]any) (bool, error) {
	p := CachePolicy(c.wf, n)
	if p == nil {
		return false, nil
	}
	return c.when(n, p.When, inputs)
}

func (c *Cache) when(n *Node, src string, inputs map[string]any) (bool, error) {
	if src == "" {
		return true, nil
	}
	prog, err := c.exprs.Compile(src, inputNames(n), false)
	if err != nil {
		return false, fmt.Errorf("cache when: %v", err)
	}
	out, err := Eval(prog, inputs)
	if err != nil {
		return false, fmt.Errorf("cache when %q: %v", src, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("cache when %q: got %T, want a bool", src, out)
	}
	return b, nil
}

// checkCachePolicy reports mistakes in n's cache policy that would
// otherwise only show when the node runs: a when: expression that does not
// compile or reads a name that is not an input, a version template naming
// an unknown parameter, a malformed sources: glob.
func checkCachePolicy(w *Workflow, n *Node, probs *Problems) {
	p := CachePolicy(w, n)
	if p == nil {
		return
	}
	pos := n.posOf("cache")
	if n.Cache != nil && n.Cache.Pos.Line > 0 {
		pos = n.Cache.Pos
	}
	own := n.Cache != nil && n.Cache.When != ""
	if !own && p.When != "" && w.Cache != nil {
		pos = w.Cache.Pos
	}
	// A workflow default's when: is compiled once, at the first node.
	if p.When != "" && (own || n == w.Nodes[0]) {
		// Strict only for the node's own expression: a workflow default's
		// may name inputs that some nodes do not have.
		if _, err := NewExprs().Compile(p.When, inputNames(n), own); err != nil {
			probs.add(pos, "node %q: cache when: %v", n.Name, err)
		}
	}
	if v := p.Version; strings.Contains(v, "${") {
		for rest := v; ; {
			i := strings.Index(rest, "${")
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				probs.add(pos, "node %q: cache version %q: unterminated ${", n.Name, v)
				break
			}
			name := rest[i+2 : i+j]
			switch {
			case name == "date", name == "week", name == "month", name == "year":
			case strings.HasPrefix(name, ParamsNode+"."):
				if pn := strings.TrimPrefix(name, ParamsNode+"."); w.Param(pn) == nil {
					probs.add(pos, "node %q: cache version: unknown parameter in ${%s}", n.Name, name)
				}
			default:
				probs.add(pos, "node %q: cache version: unknown ${%s}; want ${params.NAME}, ${date}, ${week}, ${month} or ${year}", n.Name, name)
			}
			rest = rest[i+j+1:]
		}
	}
	for _, s := range n.Sources {
		if !doublestar.ValidatePathPattern(filepath.FromSlash(s)) {
			probs.add(n.posOf("sources"), "node %q: sources: bad pattern %q", n.Name, s)
		}
	}
}
