package render

import (
	"context"
	"io"
)

// Render writes g to w in format (one of Formats()). svg, png and pdf run the
// Graphviz helper (see Graphviz); the others are produced in-process.
func Render(ctx context.Context, w io.Writer, g *Graph, format string, opts Options) error {
	if err := ValidateFormat(format); err != nil {
		return err
	}
	switch format {
	case "mermaid":
		return Mermaid(w, g, opts)
	case "dot":
		return DOT(w, g, opts)
	case "tree":
		return Tree(w, g, opts)
	case "d3":
		return D3(w, g, opts)
	case "cytoscape":
		return Cytoscape(w, g, opts)
	}
	return renderGraphviz(ctx, w, g, format, opts)
}
