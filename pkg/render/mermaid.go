package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mermaid writes the graph as a Mermaid flowchart.
//
// Node ids are "n_" plus the name with every character outside [A-Za-z0-9_]
// replaced by "_" (and a numeric suffix on collision), so names with "-",
// ".", spaces or Mermaid keywords ("end") are safe. Shapes: condition
// {diamond}, select {{hexagon}}, shell/exec/unknown [rectangle],
// expr/builtin:*/other kinds (rounded). Labels are quoted, with Mermaid
// entity codes for " # < > & | ` and <br/> for newlines. Order edges are
// dashed (-.->); named outputs and branches label the edge. With a run
// overlay each node gets a status class (classDef success/failed/...).
func Mermaid(w io.Writer, g *Graph, opts Options) error {
	m, err := newModel(g, opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	m.writeMermaid(bw)
	return bw.Flush()
}

func (m *model) mermaidIDs() []string {
	ids := make([]string, len(m.g.Nodes))
	used := map[string]bool{}
	for i, n := range m.g.Nodes {
		var b strings.Builder
		b.WriteString("n_")
		for _, r := range n.Name {
			if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		id := b.String()
		for k := 2; used[id]; k++ {
			id = b.String() + "_" + strconv.Itoa(k)
		}
		used[id] = true
		ids[i] = id
	}
	return ids
}

// mermaidText escapes s for use inside a quoted Mermaid label.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString("#quot;")
		case '#':
			b.WriteString("#35;")
		case '<':
			b.WriteString("#lt;")
		case '>':
			b.WriteString("#gt;")
		case '&':
			b.WriteString("#amp;")
		case '|':
			b.WriteString("#124;")
		case '`':
			b.WriteString("#96;")
		case '\n':
			b.WriteString("<br/>")
		case '\r', '\t':
			b.WriteByte(' ')
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func mermaidShape(kind string) (open, close string) {
	switch {
	case kind == KindCondition:
		return "{", "}"
	case kind == KindSelect:
		return "{{", "}}"
	case kind == KindShell || kind == KindExec || kind == "":
		return "[", "]"
	}
	return "(", ")"
}

// mermaidComment makes s safe for a %% line.
func mermaidComment(s string) string { return strings.Join(strings.Fields(s), " ") }

func (m *model) writeMermaid(w *bufio.Writer) {
	if m.g.Name != "" {
		w.WriteString("%% " + mermaidComment(m.g.Name) + "\n")
	}
	if m.g.Description != "" {
		w.WriteString("%% " + mermaidComment(m.g.Description) + "\n")
	}
	w.WriteString("flowchart " + m.dir + "\n")
	ids := m.mermaidIDs()
	for i, n := range m.g.Nodes {
		o, c := mermaidShape(n.Kind)
		fmt.Fprintf(w, "    %s%s\"%s\"%s\n", ids[i], o, mermaidText(m.labels[i]), c)
	}
	for _, e := range m.edges {
		arrow := "-->"
		if e.Kind == EdgeOrder {
			arrow = "-.->"
		}
		if l := edgeLabel(e); l != "" {
			arrow += "|\"" + mermaidText(l) + "\"|"
		}
		fmt.Fprintf(w, "    %s %s %s\n", ids[m.index[e.From]], arrow, ids[m.index[e.To]])
	}
	// Status classes, in a fixed order, for the statuses present.
	byStatus := map[string][]string{}
	for i := range m.g.Nodes {
		if s := statusOf(&m.g.Nodes[i]); s != "" {
			byStatus[s] = append(byStatus[s], ids[i])
		}
	}
	for _, s := range sortedKeys(byStatus) {
		cls := mermaidClass(s)
		if c, ok := statusColors[s]; ok {
			def := "fill:" + c.fill + ",stroke:" + c.stroke + ",color:" + c.text
			if s == StatusNotRun {
				def += ",stroke-dasharray:5 5"
			}
			w.WriteString("    classDef " + cls + " " + def + "\n")
		}
		w.WriteString("    class " + strings.Join(byStatus[s], ",") + " " + cls + "\n")
	}
	for i, n := range m.g.Nodes {
		if css := toCSS(m.g.Styles.Nodes[n.Name]); len(css) > 0 {
			w.WriteString("    style " + ids[i] + " " + strings.Join(css, ",") + "\n")
		}
	}
	for k, e := range m.edges {
		css := toCSS(m.g.Styles.Edges[[2]string{e.From, e.To}])
		if len(css) > 0 {
			fmt.Fprintf(w, "    linkStyle %d %s\n", k, strings.Join(css, ","))
		}
	}
}

// mermaidClass makes a status usable as a class name.
func mermaidClass(s string) string {
	b := []byte("st_")
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b = append(b, string(r)...)
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}
