package cmd

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/fastdag/fastdag/pkg/dag"
	"github.com/fastdag/fastdag/pkg/nodes"
	"github.com/fastdag/fastdag/pkg/render"
)

// TestMainBinaryNoGraphviz guards fastdag's start-up time: the main binary
// must not link go-graphviz, whose package init compiles WebAssembly; svg,
// png and pdf go through the fastdag-graphviz helper process instead.
func TestMainBinaryNoGraphviz(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/fastdag/fastdag").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !contains(deps, "github.com/fastdag/fastdag/pkg/render") {
		t.Fatalf("go list -deps gave no plausible dependency list:\n%s", out)
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "github.com/goccy/go-graphviz") || strings.HasPrefix(dep, "github.com/tetratelabs/wazero") ||
			strings.HasSuffix(dep, "/pkg/render/graphviz") {
			t.Errorf("the fastdag binary depends on %s", dep)
		}
	}
}

func TestVizLabel(t *testing.T) {
	for in, want := range map[string]string{
		`{{.Name}}`:                           `{{.Name}}`,
		`{{.Name}}\n{{.Status}}`:              "{{.Name}}\n{{.Status}}",
		`{{printf "%s\n" .Name}}\n`:           "{{printf \"%s\\n\" .Name}}\n",
		`a\nb`:                                "a\nb",
		`{{if .HasRun}}\n{{.Seconds}}{{end}}`: "{{if .HasRun}}\n{{.Seconds}}{{end}}",
	} {
		if got := vizLabel(in); got != want {
			t.Errorf("vizLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVizFormatOf(t *testing.T) {
	for out, want := range map[string]string{
		"": "mermaid", "-": "mermaid", "a.mmd": "mermaid", "a.MERMAID": "mermaid", "a.gv": "dot", "a.dot": "dot",
		"a.svg": "svg", "a.png": "png", "a.pdf": "pdf", "a.txt": "tree",
	} {
		if got, err := vizFormatOf(out); got != want || err != nil {
			t.Errorf("vizFormatOf(%q) = %q, %v; want %q", out, got, err, want)
		}
	}
	for _, out := range []string{"a.json", "a.gif", "noext"} {
		if _, err := vizFormatOf(out); err == nil || !isUsageError(err) {
			t.Errorf("vizFormatOf(%q): err = %v, want a usage error", out, err)
		}
	}
}

const vizTestWorkflow = `version: 1
name: t
nodes:
  a: {run: "echo 1", outputs: [o]}
  c:
    uses: condition
    with: {expr: "x > 0"}
    inputs: {x: a}
  yes: {run: "true", needs: [c.true]}
  fed: {run: "true", inputs: {v: c.false}}
  named: {run: "true", inputs: {in: a.o, a: a}}
  ordered: {run: "true", needs: [named]}
`

func TestVizGraph(t *testing.T) {
	wf, err := dag.Load("t.yaml", []byte(vizTestWorkflow), dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := dag.Compile(wf, nodes.NewRegistry().Compile)
	if err != nil {
		t.Fatal(err)
	}
	code := 3
	rec := &dag.Record{Workflow: "t", Nodes: map[string]*dag.NodeRecord{
		"a":    {Status: dag.StatusSuccess, DurationMS: 1500, MaxRSS: 2 << 20, Value: "line one\nline two", Outputs: map[string]any{"o": map[string]any{"k": strings.Repeat("x", 60)}}},
		"c":    {Status: dag.StatusSuccess, Cache: "hit"},
		"yes":  {Status: dag.StatusFailed, ExitCode: &code, Error: "exit 3"},
		"fed":  {Status: dag.StatusSkipped, Reason: "branch not taken"},
		"gone": {Status: dag.StatusSuccess},
	}}
	g, warnings := vizGraph(plan, rec, true)
	if g, _ := vizGraph(plan, nil, false); !slices.ContainsFunc(g.Edges, func(e render.Edge) bool { return e.From == "a" && e.To == "named" && e.ToInput == "a" }) {
		t.Errorf("not terse: the a -> named edge lost its input name: %+v", g.Edges)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	kinds := map[string]string{}
	for _, e := range g.Edges {
		kinds[e.From+"->"+e.To+":"+e.FromOutput+":"+e.ToInput] = e.Kind
	}
	want := map[string]string{
		"a->c::x":          render.EdgeData,
		"c->yes:true:":     render.EdgeBranch,
		"c->fed:false:v":   render.EdgeBranch,
		"a->named:o:in":    render.EdgeData,
		"a->named::":       render.EdgeData, // inputs: {a: a}: the input name says nothing more
		"named->ordered::": render.EdgeOrder,
	}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("edge %s: kind %q, want %q (all: %v)", k, kinds[k], v, kinds)
		}
	}
	if len(kinds) != len(want) {
		t.Errorf("edges %v, want %v", kinds, want)
	}
	byName := map[string]render.Node{}
	for _, n := range g.Nodes {
		byName[n.Name] = n
	}
	if len(g.Nodes) != 6 {
		t.Errorf("%d nodes, want the workflow's 6", len(g.Nodes))
	}
	a := byName["a"].Run
	if a.Status != "success" || a.Duration.Seconds() != 1.5 || a.PeakMemBytes != 2<<20 {
		t.Errorf("a: %+v", a)
	}
	if a.Outputs["value"] != "line one line two" || len([]rune(a.Outputs["o"])) != previewRunes || !strings.HasSuffix(a.Outputs["o"], "…") {
		t.Errorf("a previews: %q", a.Outputs)
	}
	if byName["c"].Kind != "condition" || strings.Join(byName["c"].Outputs, ",") != "true,false" || byName["c"].Run.Cache != "hit" {
		t.Errorf("c: %+v %+v", byName["c"], byName["c"].Run)
	}
	if r := byName["fed"].Run; r.Status != "skipped" || r.Error != "branch not taken" {
		t.Errorf("fed: %+v", r)
	}
	for _, n := range []string{"named", "ordered"} {
		if r := byName[n].Run; r == nil || r.Status != render.StatusNotRun {
			t.Errorf("%s, absent from the record: %+v, want not_run", n, r)
		}
	}
}
