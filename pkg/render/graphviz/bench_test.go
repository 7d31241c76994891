package graphviz

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/fastdag/fastdag/pkg/render"
)

// bigGraph is a layered DAG: 20 layers of 50 nodes, ~1,500 edges.
func bigGraph() *render.Graph {
	const layers, width = 20, 50
	g := &render.Graph{Name: "big"}
	name := func(l, j int) string { return fmt.Sprintf("n%02d_%02d", l, j) }
	for l := 0; l < layers; l++ {
		for j := 0; j < width; j++ {
			g.Nodes = append(g.Nodes, render.Node{Name: name(l, j), Kind: "shell"})
			if l == 0 {
				continue
			}
			g.Edges = append(g.Edges, render.Edge{From: name(l-1, j), To: name(l, j)})
			if j%2 == 0 {
				g.Edges = append(g.Edges, render.Edge{From: name(l-1, (j*7+3)%width), To: name(l, j)})
			}
			if j%10 == 0 && l > 1 {
				g.Edges = append(g.Edges, render.Edge{From: name(l-2, (j+25)%width), To: name(l, j), Kind: render.EdgeOrder})
			}
		}
	}
	return g
}

func benchRender(b *testing.B, format string) {
	g := bigGraph()
	dot, err := render.DOTBytes(g, render.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d nodes, %d edges, %d bytes of DOT", len(g.Nodes), len(g.Edges), len(dot))
	var size int
	for b.Loop() {
		var out bytes.Buffer
		if err := Render(context.Background(), &out, dot, format, "dot"); err != nil {
			b.Fatal(err)
		}
		size = out.Len()
	}
	b.ReportMetric(float64(size), "bytes")
}

func BenchmarkBig1000SVG(b *testing.B) { benchRender(b, "svg") }
func BenchmarkBig1000PNG(b *testing.B) { benchRender(b, "png") }
func BenchmarkBig1000PDF(b *testing.B) { benchRender(b, "pdf") }
