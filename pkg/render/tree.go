package render

import (
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/tree"
	"github.com/muesli/termenv"
)

// Tree writes the graph as a terminal tree (github.com/charmbracelet/lipgloss/tree).
//
// By default the sinks (nodes nothing depends on) are at the root and each
// node's children are its dependencies; with Options.FromSources the sources
// are at the root and the children are dependents. A DAG is not a tree: a
// node reached a second time is printed as "name (see above)" without its
// subtree. Nodes unreachable that way (only possible with cycles) are added
// as further roots. Labels are joined onto one line with " · ". ANSI colours
// are used only when Options.Color is true.
func Tree(w io.Writer, g *Graph, opts Options) error {
	m, err := newModel(g, opts)
	if err != nil {
		return err
	}
	var r *lipgloss.Renderer
	if opts.Color {
		r = lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.ANSI)
	}
	children := m.in // dependencies
	if opts.FromSources {
		children = m.out // dependents
	}
	seen := make([]bool, len(m.g.Nodes))
	label := func(i int) string {
		s := singleLine(m.labels[i])
		if r != nil {
			if c, ok := ansiStatus[statusOf(&m.g.Nodes[i])]; ok {
				s = r.NewStyle().Foreground(lipgloss.Color(c)).Render(s)
			}
		}
		return s
	}
	seeAbove := func(i int) string {
		s := singleLine(m.g.Nodes[i].Name) + " (see above)"
		if r != nil {
			s = r.NewStyle().Faint(true).Render(s)
		}
		return s
	}
	var build func(i int) any
	build = func(i int) any {
		if seen[i] {
			return seeAbove(i)
		}
		seen[i] = true
		if len(children[i]) == 0 {
			return label(i)
		}
		t := tree.Root(label(i))
		for _, c := range children[i] {
			t.Child(build(c))
		}
		return t
	}
	name := m.g.Name
	if name == "" {
		name = "workflow"
	}
	if r != nil {
		name = r.NewStyle().Bold(true).Render(name)
	}
	root := tree.Root(name)
	isRoot := func(i int) bool {
		if opts.FromSources {
			return len(m.in[i]) == 0
		}
		return len(m.out[i]) == 0
	}
	for i := range m.g.Nodes {
		if isRoot(i) {
			root.Child(build(i))
		}
	}
	for i := range m.g.Nodes {
		if !seen[i] {
			root.Child(build(i))
		}
	}
	s := root.String()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	_, err = io.WriteString(w, s)
	return err
}

// ansiStatus are the 16-colour ANSI codes of the statuses.
var ansiStatus = map[string]string{
	StatusSuccess:   "2", // green
	StatusFailed:    "1", // red
	StatusSkipped:   "8", // grey
	StatusCached:    "4", // blue
	StatusNotRun:    "7", // white
	StatusRunning:   "3", // yellow
	StatusCancelled: "5", // magenta
}
