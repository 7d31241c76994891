package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fastdag/fastdag/pkg/dag"
	"github.com/fastdag/fastdag/pkg/render"
)

// previewRunes is how long an output preview in a picture may be.
const previewRunes = 40

// vizGraph turns a compiled workflow, and optionally one run's record, into
// the picture model. Nodes keep declaration order. With a record, a node the
// record does not know (the workflow changed since) is shown as not run;
// record nodes the workflow no longer has are left out. It returns warnings
// about viz: styles that name no node. terse drops what a picture need not
// say: the input name of an edge from a node's default output into an input
// named like that node (inputs: {total: total}).
func vizGraph(plan *dag.Plan, rec *dag.Record, terse bool) (*render.Graph, []string) {
	wf := plan.Workflow
	g := &render.Graph{Name: wf.Name, Description: wf.Description, Nodes: make([]render.Node, 0, len(wf.Nodes))}
	for _, n := range wf.Nodes {
		rn := render.Node{Name: n.Name, Kind: vizKind(n), Command: vizCommand(n), Join: n.Join}
		rn.Outputs = append(rn.Outputs, plan.Branches(n.Name)...)
		for _, o := range n.Outputs {
			if !slices.Contains(rn.Outputs, o) {
				rn.Outputs = append(rn.Outputs, o)
			}
		}
		if rec != nil {
			rn.Run = vizRun(rec.Nodes[n.Name])
		}
		g.Nodes = append(g.Nodes, rn)
	}
	for _, e := range plan.Edges() {
		re := render.Edge{From: e.From, To: e.To, FromOutput: e.Output, ToInput: e.Input, Kind: render.EdgeData}
		switch {
		case e.Output != "" && slices.Contains(plan.Branches(e.From), e.Output):
			// A branch gates what follows, whether it feeds an input or a needs:.
			re.Kind = render.EdgeBranch
		case e.Input == "":
			re.Kind = render.EdgeOrder
		case terse && e.Output == "" && e.Input == e.From:
			re.ToInput = ""
		}
		g.Edges = append(g.Edges, re)
	}
	var warnings []string
	if z := wf.Viz; z != nil {
		g.Direction = z.Direction
		known := func(name string) bool { return wf.Node(name) != nil }
		for name, attrs := range z.Nodes {
			if !known(name) {
				warnings = append(warnings, fmt.Sprintf("viz: nodes: no node %q%s", name, dag.DidYouMean(name, nodeNames(wf))))
				continue
			}
			if g.Styles.Nodes == nil {
				g.Styles.Nodes = map[string]map[string]string{}
			}
			g.Styles.Nodes[name] = attrs
		}
		for key, attrs := range z.Edges {
			from, to, ok := strings.Cut(key, "->")
			from, to = strings.TrimSpace(from), strings.TrimSpace(to)
			switch {
			case !ok || from == "" || to == "":
				warnings = append(warnings, fmt.Sprintf("viz: edges: key %q: want \"from->to\"", key))
				continue
			case !known(from) || !known(to):
				warnings = append(warnings, fmt.Sprintf("viz: edges: %q: no such nodes", key))
				continue
			}
			if g.Styles.Edges == nil {
				g.Styles.Edges = map[[2]string]map[string]string{}
			}
			g.Styles.Edges[[2]string{from, to}] = attrs
		}
		slices.Sort(warnings)
	}
	return g, warnings
}

func nodeNames(wf *dag.Workflow) []string {
	names := make([]string, len(wf.Nodes))
	for i, n := range wf.Nodes {
		names[i] = n.Name
	}
	return names
}

// vizKind is the picture kind: shell, exec, or the built-in's name (expr,
// condition, select, ...).
func vizKind(n *dag.Node) string {
	if n.Kind == dag.KindUses {
		return n.Uses
	}
	return string(n.Kind)
}

// vizCommand is what a node runs: the shell text, the argv, or a built-in's
// expression (its with: otherwise).
func vizCommand(n *dag.Node) string {
	switch n.Kind {
	case dag.KindShell:
		return strings.TrimSpace(n.Run)
	case dag.KindExec:
		args := make([]string, len(n.Exec))
		for i, a := range n.Exec {
			args[i] = shellQuote(a)
		}
		return strings.Join(args, " ")
	}
	if s, ok := n.With["expr"].(string); ok {
		return s
	}
	if len(n.With) > 0 {
		if b, err := json.Marshal(n.With); err == nil {
			return string(b)
		}
	}
	return ""
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`|&;<>()*?[]{}~#!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// vizRun is a node's overlay from its record; nil r is a node the run did
// not reach (or, after the workflow changed, never knew).
func vizRun(r *dag.NodeRecord) *render.NodeRun {
	if r == nil {
		return &render.NodeRun{Status: render.StatusNotRun}
	}
	run := &render.NodeRun{
		Status:       vizStatus(r.Status),
		Duration:     time.Duration(r.DurationMS * float64(time.Millisecond)),
		PeakMemBytes: r.MaxRSS,
		Cache:        r.Cache,
		ExitCode:     r.ExitCode,
		Error:        r.Error,
	}
	if r.Error == "" && r.Reason != "" && (r.Status == dag.StatusSkipped || r.Status == dag.StatusNotRun) {
		run.Error = r.Reason
	}
	for k, v := range r.Outputs {
		if run.Outputs == nil {
			run.Outputs = map[string]string{}
		}
		run.Outputs[k] = vizPreview(v)
	}
	if r.Value != nil {
		if _, taken := run.Outputs["value"]; !taken {
			if run.Outputs == nil {
				run.Outputs = map[string]string{}
			}
			run.Outputs["value"] = vizPreview(r.Value)
		}
	}
	return run
}

func vizStatus(s dag.Status) string {
	switch s {
	case dag.StatusPending:
		return render.StatusNotRun
	case dag.StatusInterrupted:
		return render.StatusCancelled
	}
	return string(s)
}

// vizPreview is a value on one short line: strings as they are, anything else
// as JSON; whitespace runs become one space; at most previewRunes runes.
func vizPreview(v any) string {
	s, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			s = fmt.Sprint(v)
		} else {
			s = string(b)
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > previewRunes {
		s = string(r[:previewRunes-1]) + "…"
	}
	return s
}

// readRun reads the record --run names. "latest" is the latest run of this
// workflow: a state dir may be shared by the workflows of a directory, so
// the state dir's own "latest" is only the first guess. A missing run is an
// invalid argument (exit 2).
func readRun(stateDir, id string, wf *dag.Workflow) (*dag.Record, error) {
	if id != "latest" {
		r, err := dag.ReadRecord(stateDir, id)
		if err != nil {
			if _, serr := os.Stat(dag.RunDir(stateDir, id)); os.IsNotExist(serr) {
				return nil, invalidf("--run %s: no such run in %s (see --state-dir)", id, dag.RunsDir(stateDir))
			}
			return nil, fmt.Errorf("--run %s: %w", id, err)
		}
		return r, nil
	}
	same := func(r *dag.Record) bool {
		return r.Workflow == wf.Name && (wf.Name != "" || r.File == wf.File)
	}
	if r, err := dag.ReadRecord(stateDir, "latest"); err == nil && same(r) {
		return r, nil
	}
	entries, _ := os.ReadDir(dag.RunsDir(stateDir))
	for i := len(entries) - 1; i >= 0; i-- { // run ids sort by start time
		if !entries[i].IsDir() {
			continue
		}
		if r, err := dag.ReadRecord(stateDir, entries[i].Name()); err == nil && same(r) {
			return r, nil
		}
	}
	what := "workflow " + wf.Name
	if wf.Name == "" {
		what = wf.File
	}
	return nil, invalidf("--run latest: no runs of %s recorded in %s; run it first (fastdag run %s) or pass --state-dir", what, dag.RunsDir(stateDir), wf.File)
}
