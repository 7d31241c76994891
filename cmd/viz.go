package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/fastdag/fastdag/pkg/dag"
	"github.com/fastdag/fastdag/pkg/nodes"
	"github.com/fastdag/fastdag/pkg/render"
)

// vizExtensions maps OUT's extension to a format. ".json" is not here: d3
// and cytoscape are both JSON.
var vizExtensions = map[string]string{
	".mmd": "mermaid", ".mermaid": "mermaid",
	".dot": "dot", ".gv": "dot",
	".svg": "svg", ".png": "png", ".pdf": "pdf",
	".txt": "tree",
}

func newVizCmd(e *env) *cobra.Command {
	var (
		format, out, wfFormat     string
		direction, engine, label  string
		graphAttr, nodeAttr, edge []string
		fromSources               bool
		runID                     string
	)
	cmd := &cobra.Command{
		Use:   "viz FILE",
		Short: "Draw a workflow, optionally with a run's results",
		Long: `Viz draws the workflow's graph as Mermaid, Graphviz DOT, SVG, PNG, PDF, a
terminal tree, or D3.js / Cytoscape.js JSON. The format is --format, or
OUT's extension (.mmd/.mermaid, .dot/.gv, .svg, .png, .pdf, .txt for the
tree; .json needs --format d3 or cytoscape), else mermaid. Text goes to
stdout without -o; PNG and PDF go to stdout only when it is not a terminal.

--run latest|RUN_ID overlays a recorded run (from the state dir, as for
run): each node's status, duration, peak memory and cache hit. Nodes the
run did not record are shown as not run. --label sets the node label as a
Go template, e.g. '{{.Name}}\n{{.Seconds | printf "%.2f"}}s'; see the
README for the fields.

SVG, PNG and PDF are laid out by Graphviz in the fastdag-graphviz helper
(embedded in release builds; $FASTDAG_GRAPHVIZ, next to fastdag, or on
$PATH otherwise).

Exit codes: 0 drawn, 1 drawing failed, 2 invalid workflow, flags or --run.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			toStdout := out == "" || out == "-"
			if format == "" {
				f, err := vizFormatOf(out)
				if err != nil {
					return err
				}
				format = f
			}
			if err := render.ValidateFormat(format); err != nil {
				return &usageError{fmt.Errorf("--format: %w", err)}
			}
			if err := render.ValidateEngine(engine); err != nil {
				return &usageError{fmt.Errorf("--engine: %w", err)}
			}
			if err := render.ValidateDirection(direction); err != nil {
				return &usageError{fmt.Errorf("--direction: %w", err)}
			}
			opts := render.Options{Direction: strings.ToUpper(direction), Engine: engine, FromSources: fromSources, Label: vizLabel(label)}
			if err := render.ParseLabel(opts.Label); err != nil {
				return &usageError{fmt.Errorf("--label: %w", errors.Unwrap(err))}
			}
			if opts.Label != "" {
				// An unknown field shows only when the template runs: try it
				// on a node with an empty run.
				probe := &render.Graph{Nodes: []render.Node{{Name: "probe", Run: &render.NodeRun{}}}}
				if err := render.Mermaid(io.Discard, probe, render.Options{Label: opts.Label}); err != nil {
					msg := err.Error()
					if _, after, ok := strings.Cut(msg, `"probe": `); ok {
						msg = after
					}
					return &usageError{fmt.Errorf("--label: %s", msg)}
				}
			}
			var err error
			for _, at := range []struct {
				flag string
				kvs  []string
				dst  *map[string]string
			}{{"--graph-attr", graphAttr, &opts.GraphAttrs}, {"--node-attr", nodeAttr, &opts.NodeAttrs}, {"--edge-attr", edge, &opts.EdgeAttrs}} {
				if len(at.kvs) == 0 {
					continue
				}
				if *at.dst, err = render.ParseAttrs(at.kvs); err != nil {
					return &usageError{fmt.Errorf("%s: %w", at.flag, err)}
				}
			}
			binary := format == "png" || format == "pdf"
			if toStdout && binary && isTerminal(e.stdout) {
				return &usageError{fmt.Errorf("--format %s: not writing binary data to a terminal; use -o FILE.%s or redirect stdout", format, format)}
			}

			plan, err := e.loadForViz(a[0], wfFormat)
			if err != nil {
				return err
			}
			if z := plan.Workflow.Viz; z != nil && direction == "" {
				if err := render.ValidateDirection(z.Direction); err != nil {
					return invalidf("%s: viz: %v", a[0], err)
				}
			}
			var rec *dag.Record
			if runID != "" {
				if rec, err = readRun(e.stateDir(plan.Workflow), runID, plan.Workflow); err != nil {
					return err
				}
				if rec.Workflow != plan.Workflow.Name {
					fmt.Fprintf(e.stderr, "fastdag: warning: run %s is of workflow %q, not %q\n", rec.ID, rec.Workflow, plan.Workflow.Name)
				}
			}
			g, warnings := vizGraph(plan, rec, format != "d3" && format != "cytoscape")
			for _, w := range warnings {
				fmt.Fprintf(e.stderr, "fastdag: warning: %s: %s\n", a[0], w)
			}
			if rec != nil {
				if n := missingFromRecord(plan.Workflow, rec); n > 0 {
					fmt.Fprintf(e.stderr, "fastdag: warning: run %s has no record of %d node(s) (the workflow changed since?); shown as not run\n", rec.ID, n)
				}
			}
			if format == "tree" && toStdout {
				opts.Color = e.color(e.stdout)
			}
			var buf bytes.Buffer
			if err := render.Render(cmd.Context(), &buf, g, format, opts); err != nil {
				return err
			}
			if toStdout {
				_, err = e.stdout.Write(buf.Bytes())
				return err
			}
			return os.WriteFile(out, buf.Bytes(), 0o644)
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "picture format: "+strings.Join(render.Formats(), ", ")+" (default: from -o's extension, else mermaid)")
	f.StringVarP(&out, "out", "o", "", "write to this file instead of stdout (- for stdout)")
	f.StringVar(&wfFormat, "workflow-format", "", "workflow format: yaml, json or msgpack (default: from the extension)")
	f.StringVar(&direction, "direction", "", "layout direction: "+strings.Join(render.Directions(), ", ")+" (default: the workflow's viz: direction, else TB)")
	f.StringVar(&engine, "engine", "", "Graphviz layout engine for svg, png, pdf: "+strings.Join(render.Engines(), ", ")+" (default dot)")
	f.StringArrayVar(&graphAttr, "graph-attr", nil, "Graphviz graph attribute KEY=VALUE (repeatable)")
	f.StringArrayVar(&nodeAttr, "node-attr", nil, "Graphviz node attribute KEY=VALUE (repeatable)")
	f.StringArrayVar(&edge, "edge-attr", nil, "Graphviz edge attribute KEY=VALUE (repeatable)")
	f.BoolVar(&fromSources, "from-sources", false, "tree: sources at the root, children are dependents (default: sinks at the root)")
	f.StringVar(&runID, "run", "", "overlay a recorded run: latest or a run id")
	f.String("state-dir", "", "where run records are (default: .fastdag next to the workflow; env FASTDAG_STATE_DIR)")
	f.StringVar(&label, "label", "", `node label template, e.g. '{{.Name}}\n{{.Status}}' (\n outside {{ }} is a line break)`)
	f.Bool("no-color", false, "never colour the tree (also NO_COLOR)")
	return cmd
}

// vizFormatOf infers the format from OUT's extension.
func vizFormatOf(out string) (string, error) {
	if out == "" || out == "-" {
		return "mermaid", nil
	}
	ext := strings.ToLower(filepath.Ext(out))
	if f, ok := vizExtensions[ext]; ok {
		return f, nil
	}
	if ext == ".json" {
		return "", &usageError{fmt.Errorf("-o %s: .json is d3 or cytoscape; say which with --format d3 or --format cytoscape", out)}
	}
	exts := make([]string, 0, len(vizExtensions))
	for x := range vizExtensions {
		exts = append(exts, x)
	}
	slices.Sort(exts)
	return "", &usageError{fmt.Errorf("-o %s: cannot tell the format from the extension (known: %s); use --format %s",
		out, strings.Join(exts, ", "), strings.Join(render.Formats(), "|"))}
}

// vizLabel turns the two characters \n outside {{ }} into a line break, so
// that a label can be written on one shell line. Inside an action, Go
// template string literals handle escapes themselves.
func vizLabel(s string) string {
	if !strings.Contains(s, `\n`) {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			depth++
			b.WriteString("{{")
			i++
		case strings.HasPrefix(s[i:], "}}") && depth > 0:
			depth--
			b.WriteString("}}")
			i++
		case depth == 0 && strings.HasPrefix(s[i:], `\n`):
			b.WriteByte('\n')
			i++
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func missingFromRecord(wf *dag.Workflow, rec *dag.Record) int {
	n := 0
	for _, node := range wf.Nodes {
		if rec.Nodes[node.Name] == nil {
			n++
		}
	}
	return n
}

// loadForViz reads, validates and compiles a workflow like load, but
// without params: a picture needs none, so a required param is no problem.
func (e *env) loadForViz(path, format string) (*dag.Plan, error) {
	var ff dag.Format
	if format != "" {
		var err error
		if ff, err = dag.ParseFormat(format); err != nil {
			return nil, &usageError{fmt.Errorf("--workflow-format: %w", err)}
		}
	}
	wf, err := dag.LoadFile(path, ff, e.stdin)
	var probs dag.Problems
	switch {
	case errors.As(err, &probs):
		if wf == nil {
			e.printProblems(path, probs)
			return nil, &exitError{code: ExitInvalid, err: err, printed: true}
		}
	case err != nil:
		return nil, invalid(err)
	}
	plan, err := dag.Compile(wf, nodes.NewRegistry().Compile)
	var more dag.Problems
	if errors.As(err, &more) {
		probs = append(probs, more...)
	} else if err != nil {
		return nil, invalid(err)
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool {
			a, b := probs[i].Pos, probs[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		e.printProblems(path, probs)
		return nil, &exitError{code: ExitInvalid, err: fmt.Errorf("%s is invalid", path), printed: true}
	}
	return plan, nil
}
