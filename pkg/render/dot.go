package render

import (
	"bufio"
	"io"
	"maps"
	"strings"
)

// DOT writes the graph as Graphviz DOT text. Output is byte-stable: nodes in
// Graph order, edges sorted, attributes sorted by name, every ID and value
// quoted.
func DOT(w io.Writer, g *Graph, opts Options) error {
	m, err := newModel(g, opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	m.writeDOT(bw)
	return bw.Flush()
}

// DOTBytes returns DOT as a byte slice.
func DOTBytes(g *Graph, opts Options) ([]byte, error) {
	var b strings.Builder
	if err := DOT(&b, g, opts); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func (m *model) writeDOT(w *bufio.Writer) {
	name := m.g.Name
	if name == "" {
		name = "workflow"
	}
	w.WriteString("digraph " + dotQuote(name) + " {\n")
	if d := m.g.Description; d != "" {
		w.WriteString("\t// " + strings.Join(strings.Fields(d), " ") + "\n")
	}
	graph := map[string]string{"rankdir": m.dir, "fontname": "Helvetica"}
	node := map[string]string{"fontname": "Helvetica", "fontsize": "12", "shape": "box"}
	edge := map[string]string{"fontname": "Helvetica", "fontsize": "10"}
	switch m.opts.Engine {
	case "neato", "fdp":
		graph["overlap"] = "false" // these engines allow overlapping nodes by default
	case "sfdp":
		// go-graphviz's sfdp crashes with overlap=false (prism); scale works.
		graph["overlap"], graph["sep"] = "scale", "+8"
	}
	maps.Copy(graph, m.opts.GraphAttrs)
	maps.Copy(node, m.opts.NodeAttrs)
	maps.Copy(edge, m.opts.EdgeAttrs)
	writeDOTStmt(w, "graph", graph)
	writeDOTStmt(w, "node", node)
	writeDOTStmt(w, "edge", edge)
	for i := range m.g.Nodes {
		writeDOTStmt(w, dotQuote(m.g.Nodes[i].Name), m.dotNodeAttrs(i))
	}
	for _, e := range m.edges {
		writeDOTStmt(w, dotQuote(e.From)+" -> "+dotQuote(e.To), m.dotEdgeAttrs(e))
	}
	w.WriteString("}\n")
}

func writeDOTStmt(w *bufio.Writer, head string, attrs map[string]string) {
	w.WriteString("\t" + head)
	if len(attrs) > 0 {
		w.WriteString(" [")
		for i, k := range sortedKeys(attrs) {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(dotKey(k) + "=" + dotQuote(attrs[k]))
		}
		w.WriteString("]")
	}
	w.WriteString(";\n")
}

// dotQuote quotes s as a DOT string: backslash and double quote are escaped
// and a newline becomes \n (a centred line break in labels). Carriage
// returns and other control characters become spaces.
func dotQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// dotKey writes an attribute name bare when it is a plain identifier.
func dotKey(k string) string {
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return dotQuote(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}
