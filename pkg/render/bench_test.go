package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// bigGraph is a layered DAG: 20 layers of 50 nodes, ~1,500 edges (the same
// shape as pkg/render/graphviz's benchmark graph).
func bigGraph() *Graph {
	const layers, width = 20, 50
	g := &Graph{Name: "big"}
	name := func(l, j int) string { return fmt.Sprintf("n%02d_%02d", l, j) }
	for l := 0; l < layers; l++ {
		for j := 0; j < width; j++ {
			g.Nodes = append(g.Nodes, Node{Name: name(l, j), Kind: "shell"})
			if l == 0 {
				continue
			}
			g.Edges = append(g.Edges, Edge{From: name(l-1, j), To: name(l, j)})
			if j%2 == 0 {
				g.Edges = append(g.Edges, Edge{From: name(l-1, (j*7+3)%width), To: name(l, j)})
			}
			if j%10 == 0 && l > 1 {
				g.Edges = append(g.Edges, Edge{From: name(l-2, (j+25)%width), To: name(l, j), Kind: EdgeOrder})
			}
		}
	}
	return g
}

func BenchmarkBig1000Text(b *testing.B) {
	g := bigGraph()
	for _, f := range []string{"mermaid", "dot", "tree", "d3", "cytoscape"} {
		b.Run(f, func(b *testing.B) {
			for b.Loop() {
				if err := Render(context.Background(), io.Discard, g, f, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBig1000Helper includes the helper process start (warm cache).
func BenchmarkBig1000Helper(b *testing.B) {
	if helperBin == "" {
		b.Skip("helper not built")
	}
	b.Setenv(EnvGraphviz, helperBin)
	g := bigGraph()
	for _, f := range GraphvizFormats() {
		b.Run(f, func(b *testing.B) {
			for b.Loop() {
				var out bytes.Buffer
				if err := Render(context.Background(), &out, g, f, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHelperStart is one tiny render through the helper: process start
// (WASM module load from the warm compilation cache) plus a 2-node layout.
func BenchmarkHelperStart(b *testing.B) {
	if helperBin == "" {
		b.Skip("helper not built")
	}
	b.Setenv(EnvGraphviz, helperBin)
	for b.Loop() {
		if err := Graphviz(context.Background(), io.Discard, []byte("digraph{a->b}"), "svg", "dot"); err != nil {
			b.Fatal(err)
		}
	}
}
