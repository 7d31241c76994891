// Command fastdag-graphviz is the Graphviz helper process of fastdag.
//
// It reads DOT on standard input and writes the rendered picture on standard
// output:
//
//	fastdag-graphviz -format svg|png|pdf [-engine dot|neato|fdp|sfdp|twopi|circo] < graph.dot > out
//
// Errors go to standard error; the exit code is 2 for a bad request (unknown
// format or engine, bad flags) and 1 when rendering fails. "-version" prints
// the protocol version. It exists as a separate binary because
// github.com/goccy/go-graphviz compiles its WebAssembly module in a package
// init function, a cost the main fastdag binary must not pay on every start.
// The compilation cache lives in $TMPDIR/go-graphviz; pkg/render points
// TMPDIR at a stable cache directory when it runs this helper.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/fastdag/fastdag/pkg/render/graphviz"
)

// protocolVersion is printed by -version; pkg/render checks nothing about it
// yet, but it lets a future client detect an incompatible helper.
const protocolVersion = "fastdag-graphviz 1"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fastdag-graphviz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "svg", "output format: svg, png or pdf")
	engine := fs.String("engine", "dot", "layout engine: dot, neato, fdp, sfdp, twopi or circo")
	version := fs.Bool("version", false, "print the protocol version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, protocolVersion)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fastdag-graphviz: unexpected arguments %q (DOT is read from standard input)\n", fs.Args())
		return 2
	}
	if err := graphviz.Validate(*format, *engine); err != nil {
		fmt.Fprintln(stderr, "fastdag-graphviz:", err)
		return 2
	}
	dot, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintln(stderr, "fastdag-graphviz: read stdin:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bw := bufio.NewWriter(stdout)
	if err := graphviz.Render(ctx, bw, dot, *format, *engine); err != nil {
		fmt.Fprintln(stderr, "fastdag-graphviz:", err)
		return 1
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(stderr, "fastdag-graphviz: write:", err)
		return 1
	}
	return 0
}
