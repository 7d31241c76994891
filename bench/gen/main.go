// Command gen writes the benchmark workflows (and the Makefile that does
// the same work) that bench/run.sh times.
//
//	go run ./bench/gen -kind chain -n 100000 > chain.yaml
//	go run ./bench/gen -kind fanout -n 5000 > fanout.yaml
//	go run ./bench/gen -kind shell -n 500 > shell.yaml
//	go run ./bench/gen -kind layered -n 1000 > layered.yaml
//	go run ./bench/gen -kind make -n 500 > Makefile
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

func main() {
	kind := flag.String("kind", "chain", "chain, fanout, shell, layered or make")
	n := flag.Int("n", 1000, "number of nodes")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	if *kind == "make" {
		// The same 500 independent `true` commands as -kind shell.
		fmt.Fprint(w, ".PHONY: all")
		for i := range *n {
			fmt.Fprintf(w, " n%d", i)
		}
		fmt.Fprint(w, "\nall:")
		for i := range *n {
			fmt.Fprintf(w, " n%d", i)
		}
		fmt.Fprintln(w)
		for i := range *n {
			fmt.Fprintf(w, "n%d:\n\t@true\n", i)
		}
		return
	}
	fmt.Fprintf(w, "version: 1\nname: %s-%d\nnodes:\n", *kind, *n)
	switch *kind {
	case "chain":
		fmt.Fprintf(w, "  n0:\n    uses: expr\n    with: {expr: \"1\"}\n")
		for i := 1; i < *n; i++ {
			fmt.Fprintf(w, "  n%d:\n    uses: expr\n    with: {expr: \"x + 1\"}\n    inputs: {x: n%d}\n", i, i-1)
		}
	case "fanout":
		fmt.Fprintf(w, "  root:\n    uses: expr\n    with: {expr: \"1\"}\n")
		for i := range *n {
			fmt.Fprintf(w, "  leaf%d:\n    uses: expr\n    with: {expr: \"x * 2\"}\n    inputs: {x: root}\n", i)
		}
	case "shell":
		for i := range *n {
			fmt.Fprintf(w, "  n%d:\n    run: \"true\"\n", i)
		}
	case "layered":
		// Layers of 20 nodes; each node reads two nodes of the layer above
		// (a picture's worst case is many crossing edges, not a long chain).
		const width = 20
		for i := range *n {
			fmt.Fprintf(w, "  n%d:\n    uses: expr\n", i)
			if i < width {
				fmt.Fprintf(w, "    with: {expr: \"%d\"}\n", i)
				continue
			}
			up := i - width - i%width // first node of the layer above
			a, b := up+i%width, up+(i*7+3)%width
			if a == b {
				b = up + (i%width+1)%width
			}
			fmt.Fprintf(w, "    with: {expr: \"a + b\"}\n    inputs: {a: n%d, b: n%d}\n", a, b)
		}
	default:
		fmt.Fprintf(os.Stderr, "gen: unknown kind %q\n", *kind)
		os.Exit(2)
	}
}
