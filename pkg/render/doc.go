// Package render turns a workflow graph, optionally overlaid with one run's
// results, into pictures and data: Mermaid, DOT, SVG, PNG, PDF, a terminal
// tree, D3.js JSON and Cytoscape.js JSON.
//
// The caller fills a Graph (nodes in a deterministic order, edges in any
// order) from the workflow model and the run record, and calls Render with a
// format from Formats(), or the per-format function: Mermaid, DOT, Tree, D3,
// Cytoscape (in-process, pure text) or SVG, PNG, PDF (through Graphviz).
// All output is byte-stable: edges, attributes and map keys are sorted.
//
// # Graphviz
//
// SVG, PNG and PDF are laid out by Graphviz compiled to WebAssembly
// (github.com/goccy/go-graphviz). That library compiles its WebAssembly in a
// package init (~25 ms warm, ~1 s cold per process), so this package does not
// import it: Graphviz runs the helper binary fastdag-graphviz (package
// cmd/fastdag-graphviz, code in pkg/render/graphviz), which reads DOT on
// stdin and writes the picture on stdout:
//
//	fastdag-graphviz -format svg|png|pdf -engine dot|neato|fdp|sfdp|twopi|circo < in.dot > out
//
// The helper is found as described at FindGraphvizHelper: $FASTDAG_GRAPHVIZ,
// a copy embedded at build time (build tag embedgraphviz, `go generate
// ./pkg/render` builds fastdag-graphviz.bin first), fastdag-graphviz next to
// the executable, on $PATH, or (for developers) built from the module source.
// The helper's TMPDIR is set to $FASTDAG_GRAPHVIZ_CACHE or
// <user cache dir>/fastdag/graphviz-tmp so that go-graphviz's compilation
// cache ($TMPDIR/go-graphviz) is shared between runs.
//
// Options.GraphAttrs, NodeAttrs and EdgeAttrs (the CLI's --graph-attr,
// --node-attr, --edge-attr k=v) become graph/node/edge defaults in the DOT,
// overriding fastdag's (fontname=Helvetica, node shape=box, fontsize 12/10,
// rankdir from the direction; overlap=false for neato and fdp,
// overlap=scale and sep=+8 for sfdp).
//
// # Shapes and styles
//
// Kind condition is a diamond, select a hexagon, shell and exec (and an empty
// kind) rectangles, expr, builtin:<name> and other kinds rounded rectangles.
// Order edges are dashed; an edge is labelled with its FromOutput (a branch
// name such as true/false, or an output name), plus " → ToInput" when it
// feeds a differently named input. With a run overlay, nodes are coloured by
// status: success green, failed red, skipped grey, cached blue, not_run white
// with a dashed outline, running yellow, cancelled orange. Graph.Styles (the
// workflow's viz: section) are applied last; see Styles.
//
// # Labels
//
// By default a node's label is its name; with a run overlay, further lines
// give the status, the duration ("1.23s", when > 0), the peak memory
// ("12.0MB", MiB, when known) and a non-zero exit code ("exit 3").
// Options.Label replaces it with a Go text/template (in the spirit of
// fast-dag's metric_format="{name}\n{execution_time:.2f}s\n{memory_mb:.1f}MB"),
// executed with a LabelData:
//
//	.Name         node name
//	.Kind         shell, exec, expr, condition, select, builtin:<name>, ...
//	.Command      the node's command or expression
//	.Join         all | any | ""
//	.OutputNames  declared outputs ([]string)
//	.HasRun       true when the node has run data
//	.Status       success, failed, skipped, cached, not_run, running, cancelled
//	.Duration     time.Duration
//	.Seconds      duration in seconds (float64)
//	.MemoryBytes  peak memory in bytes (int64, 0 = unknown)
//	.MemoryMB     peak memory in MiB (float64)
//	.Cache        hit, miss, stored or ""
//	.ExitCode     exit code as a string, "" when unknown
//	.Output       the first output preview (declared order, then by name)
//	.Outputs      all output previews (map[string]string)
//	.Error        the error message
//
// Besides the text/template built-ins (printf, if, len, index, ...) there
// are: dur (a Duration as "1.23s"), mb (bytes as "12.0MB"), trunc N s (at
// most N runes, ending in "…"), join, upper, lower. Example:
//
//	--label '{{.Name}}{{if .HasRun}}\n{{printf "%.2f" .Seconds}}s\n{{printf "%.1f" .MemoryMB}}MB{{end}}'
//
// Newlines in a label become line breaks (<br/> in Mermaid, \n in DOT, a
// "\n" in JSON); the tree joins the lines with " · ". Every format uses the
// label.
//
// # Formats
//
//   - mermaid: `flowchart <dir>`, ids n_<name with non [A-Za-z0-9_] as _>,
//     quoted labels with entity codes (#quot; #35; #lt; #gt; #amp; #124; #96;),
//     status classes st_<status> (classDef/class), workflow styles as
//     style/linkStyle lines.
//   - dot: Graphviz DOT; every ID and value quoted and escaped.
//   - svg, png, pdf: DOT laid out with Options.Engine (default dot).
//   - tree: sinks at the root, children are dependencies (FromSources:
//     sources at the root, children are dependents); a node met again is
//     "name (see above)"; ANSI colours only with Options.Color.
//   - d3: {"name","direction","nodes":[{"id","label","kind",...}],"links":[{"source","target",...}]}
//   - cytoscape: {"data":{...},"elements":{"nodes":[{"data":{...},"classes"}],"edges":[{"data":{"id","source","target",...}}]}}
//
// The JSON node fields are id, label, kind, command, join, outputs, style and,
// with a run overlay, status, duration_seconds, peak_mem_bytes, cache,
// exit_code, output_previews, error; link/edge fields are (id,) source,
// target, kind, from_output, to_input, label, style.
package render
