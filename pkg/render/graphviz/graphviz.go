// Package graphviz lays out and renders DOT text with github.com/goccy/go-graphviz
// (Graphviz compiled to WebAssembly and run by wazero).
//
// Importing this package is expensive: go-graphviz compiles its WebAssembly
// module in a package init function, which costs every process that links it
// ~25 ms with a warm compilation cache and ~0.5–1 s with a cold one. The main
// fastdag binary therefore never imports it; only cmd/fastdag-graphviz (the
// helper process that pkg/render runs) and tests do.
//
// SVG comes straight from Graphviz. PNG and PDF do not use go-graphviz's own
// renderers (its PNG renderer draws no edges or node outlines, and it has no PDF
// output): the graph is laid out once, exported in Graphviz's "json" format
// (xdot drawing operations), and the operations are painted with
// github.com/fogleman/gg (PNG) or codeberg.org/go-pdf/fpdf (PDF), using the Go
// fonts from golang.org/x/image/font/gofont.
package graphviz

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	gv "github.com/goccy/go-graphviz"
)

// Formats lists the output formats Render accepts.
var Formats = []string{"svg", "png", "pdf"}

// Engines lists the layout engines Render accepts.
var Engines = []string{"dot", "neato", "fdp", "sfdp", "twopi", "circo"}

// go-graphviz is not safe for concurrent use; every call is serialized.
var mu sync.Mutex

// Validate reports an error listing the valid values if format or engine is
// not supported. An empty engine means "dot".
func Validate(format, engine string) error {
	if !slices.Contains(Formats, format) {
		return fmt.Errorf("unsupported graphviz format %q (valid: %s)", format, strings.Join(Formats, ", "))
	}
	if engine != "" && !slices.Contains(Engines, engine) {
		return fmt.Errorf("unsupported layout engine %q (valid: %s)", engine, strings.Join(Engines, ", "))
	}
	return nil
}

// Render lays out the DOT source with engine and writes it to w as format
// (svg, png or pdf). Nothing is written to w if an error occurs.
func Render(ctx context.Context, w io.Writer, dot []byte, format, engine string) error {
	if engine == "" {
		engine = "dot"
	}
	if err := Validate(format, engine); err != nil {
		return err
	}
	var out []byte
	var err error
	switch format {
	case "svg":
		out, err = layout(ctx, dot, engine, "svg")
	case "png", "pdf":
		var js []byte
		js, err = layout(ctx, dot, engine, "json")
		if err != nil {
			break
		}
		var d *drawing
		d, err = parseDrawing(js)
		if err != nil {
			break
		}
		if format == "png" {
			out, err = d.png()
		} else {
			out, err = d.pdf()
		}
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// layout runs Graphviz with engine and returns the output in one of its own
// formats ("svg" or "json").
func layout(ctx context.Context, dot []byte, engine, format string) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	g, err := gv.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("graphviz: %w", err)
	}
	defer g.Close()
	graph, err := gv.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("graphviz: parse DOT: %w", err)
	}
	defer graph.Close()
	g.SetLayout(gv.Layout(engine))
	var buf bytes.Buffer
	if err := g.Render(ctx, graph, gv.Format(format), &buf); err != nil {
		return nil, fmt.Errorf("graphviz: %s layout: %w", engine, err)
	}
	if buf.Len() == 0 {
		return nil, fmt.Errorf("graphviz: %s layout produced no %s output", engine, format)
	}
	return buf.Bytes(), nil
}
