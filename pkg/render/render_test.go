package render

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var fixtures = []struct {
	name string
	g    func() *Graph
}{
	{"hello", fixtureHello},
	{"diamond", fixtureDiamond},
	{"branch", fixtureBranch},
	{"run", fixtureRun},
	{"escape", fixtureEscape},
}

var textFormats = []struct {
	format, ext string
	fn          func(w *bytes.Buffer, g *Graph, opts Options) error
}{
	{"mermaid", "mmd", func(w *bytes.Buffer, g *Graph, o Options) error { return Mermaid(w, g, o) }},
	{"dot", "dot", func(w *bytes.Buffer, g *Graph, o Options) error { return DOT(w, g, o) }},
	{"tree", "txt", func(w *bytes.Buffer, g *Graph, o Options) error { return Tree(w, g, o) }},
	{"d3", "d3.json", func(w *bytes.Buffer, g *Graph, o Options) error { return D3(w, g, o) }},
	{"cytoscape", "cy.json", func(w *bytes.Buffer, g *Graph, o Options) error { return Cytoscape(w, g, o) }},
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (go test ./pkg/render -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	for _, fx := range fixtures {
		for _, tf := range textFormats {
			t.Run(fx.name+"/"+tf.format, func(t *testing.T) {
				var a, b bytes.Buffer
				if err := tf.fn(&a, fx.g(), Options{}); err != nil {
					t.Fatal(err)
				}
				// byte-stable: a second render (fresh maps) is identical
				if err := tf.fn(&b, fx.g(), Options{}); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Fatalf("output not byte-stable:\n%s\n---\n%s", a.Bytes(), b.Bytes())
				}
				// Render dispatches to the same function
				var c bytes.Buffer
				if err := Render(context.Background(), &c, fx.g(), tf.format, Options{}); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Bytes(), c.Bytes()) {
					t.Fatalf("Render(%q) differs from the direct call", tf.format)
				}
				checkGolden(t, fx.name+"."+tf.ext, a.Bytes())
			})
		}
	}
}

func TestByteStableManyTimes(t *testing.T) {
	// Map iteration order is random; repeat to catch unsorted maps.
	for _, tf := range textFormats {
		var first []byte
		for i := 0; i < 20; i++ {
			var b bytes.Buffer
			g := fixtureDiamond()
			g.Styles.Nodes["a"] = map[string]string{"fillcolor": "#eee", "color": "#111", "fontcolor": "#222", "penwidth": "3", "style": "dotted"}
			g.Styles.Edges[[2]string{"c", "d"}] = map[string]string{"color": "blue", "penwidth": "2", "fontcolor": "red"}
			if err := tf.fn(&b, g, Options{GraphAttrs: map[string]string{"a": "1", "b": "2", "c": "3"}, NodeAttrs: map[string]string{"x": "1", "y": "2"}}); err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = b.Bytes()
			} else if !bytes.Equal(first, b.Bytes()) {
				t.Fatalf("%s: run %d differs", tf.format, i)
			}
		}
	}
}

func TestJSONValid(t *testing.T) {
	for _, fx := range fixtures {
		var b bytes.Buffer
		if err := D3(&b, fx.g(), Options{}); err != nil {
			t.Fatal(err)
		}
		var d3 struct {
			Nodes []map[string]any                  `json:"nodes"`
			Links []struct{ Source, Target string } `json:"links"`
		}
		if err := json.Unmarshal(b.Bytes(), &d3); err != nil {
			t.Fatalf("%s: d3: %v", fx.name, err)
		}
		g := fx.g()
		if len(d3.Nodes) != len(g.Nodes) {
			t.Errorf("%s: d3 has %d nodes, want %d", fx.name, len(d3.Nodes), len(g.Nodes))
		}
		b.Reset()
		if err := Cytoscape(&b, fx.g(), Options{}); err != nil {
			t.Fatal(err)
		}
		var cy struct {
			Elements struct {
				Nodes []struct{ Data map[string]any } `json:"nodes"`
				Edges []struct {
					Data struct{ ID, Source, Target string }
				} `json:"edges"`
			} `json:"elements"`
		}
		if err := json.Unmarshal(b.Bytes(), &cy); err != nil {
			t.Fatalf("%s: cytoscape: %v", fx.name, err)
		}
		ids := map[string]bool{}
		for _, e := range cy.Elements.Edges {
			if e.Data.ID == "" || ids[e.Data.ID] || e.Data.Source == "" || e.Data.Target == "" {
				t.Errorf("%s: bad or duplicate edge %+v", fx.name, e.Data)
			}
			ids[e.Data.ID] = true
		}
	}
	// run fields present only with an overlay
	var b bytes.Buffer
	D3(&b, fixtureRun(), Options{})
	for _, want := range []string{`"status": "failed"`, `"duration_seconds": 2.5`, `"peak_mem_bytes": 12582912`, `"cache": "hit"`, `"exit_code": 3`, `"error": "exit status 3"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("d3 run output lacks %s", want)
		}
	}
	b.Reset()
	D3(&b, fixtureBranch(), Options{})
	if strings.Contains(b.String(), "status") {
		t.Errorf("d3 without run overlay has status fields")
	}
}

func TestMermaidEscaping(t *testing.T) {
	var b bytes.Buffer
	if err := Mermaid(&b, fixtureEscape(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "%%") || strings.HasPrefix(line, "flowchart") {
			continue
		}
		// Inside quoted labels there must be no raw quote, '<', '>', '&', '#' (other
		// than entity codes) or newline.
		for _, q := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(line, -1) {
			s := regexp.MustCompile(`#(quot|lt|gt|amp|[0-9]+);`).ReplaceAllString(q[1], "")
			s = strings.ReplaceAll(s, "<br/>", "")
			if strings.ContainsAny(s, "<>&#|`") {
				t.Errorf("unescaped character in label %q (line %q)", q[1], line)
			}
		}
		// The quotes must balance: every label is one quoted string.
		if strings.Count(line, `"`)%2 != 0 {
			t.Errorf("unbalanced quotes: %q", line)
		}
	}
	for _, want := range []string{
		`n_say__hi_["say #quot;hi#quot;"]`,
		`n_a_b__c__d_("a[b]{c}(d)")`,
		`n_x_y__z__1{"x#lt;y#gt;#amp;z #35;1"}`,
		`{{"naïve ☃ 日本"}}`,
		`["multi<br/>line"]`,
		`-->|"o#quot;ut"|`,
		`-->|"a#124;b"|`,
		`n_end["end"]`,
		`n_a_b["a-b"]`,
		`n_a_b_2["a.b"]`, // collision gets a suffix
		"%% line1 line2", // description newline flattened
	} {
		if !strings.Contains(out, want) {
			t.Errorf("mermaid output lacks %s\n%s", want, out)
		}
	}
	// ids are safe identifiers
	ids := regexp.MustCompile(`(?m)^    (\S+?)[\[\(\{]`).FindAllStringSubmatch(out, -1)
	for _, id := range ids {
		if !regexp.MustCompile(`^n_[A-Za-z0-9_]+$`).MatchString(id[1]) {
			t.Errorf("unsafe mermaid id %q", id[1])
		}
	}
}

func TestDOTEscaping(t *testing.T) {
	var b bytes.Buffer
	if err := DOT(&b, fixtureEscape(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`digraph "esc \"q\"" {`,
		`"say \"hi\"" [label="say \"hi\"", shape="box", tooltip="echo \"hi\" > out"];`,
		`"multi\nline" [label="multi\nline"`,
		`"back\\slash|pipe" [label="back\\slash|pipe"`,
		`"naïve ☃ 日本" [label="naïve ☃ 日本", shape="hexagon"];`,
		`"a[b]{c}(d)" -> "x<y>&z #1" [label="<v>"];`,
		`[label="o\"ut"]`,
		"\t// line1 line2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dot output lacks %s\n%s", want, out)
		}
	}
	// No raw newline inside any statement: each line is complete.
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !(strings.HasSuffix(line, ";") || strings.HasSuffix(line, "{") || line == "}" || strings.HasPrefix(line, "\t//")) {
			t.Errorf("broken DOT line %q", line)
		}
	}
	if got := dotQuote("a\"b\\c\nd\re\x01"); got != `"a\"b\\c\nd e "` {
		t.Errorf("dotQuote = %s", got)
	}
	if got := dotKey("a-b"); got != `"a-b"` {
		t.Errorf("dotKey(a-b) = %s", got)
	}
	if got := dotKey("rankdir"); got != `rankdir` {
		t.Errorf("dotKey(rankdir) = %s", got)
	}
}

func TestDOTOptions(t *testing.T) {
	var b bytes.Buffer
	attrs, err := ParseAttrs([]string{"rankdir=BT", "bgcolor=#eeeeee", "label=a=b"})
	if err != nil {
		t.Fatal(err)
	}
	na, _ := ParseAttrs([]string{"shape=ellipse", "style=rounded,filled"})
	ea, _ := ParseAttrs([]string{"arrowhead=vee"})
	if err := DOT(&b, fixtureHello(), Options{Direction: "LR", GraphAttrs: attrs, NodeAttrs: na, EdgeAttrs: ea}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`graph [bgcolor="#eeeeee", fontname="Helvetica", label="a=b", rankdir="BT"];`, // --graph-attr wins over --direction
		`node [fontname="Helvetica", fontsize="12", shape="ellipse", style="rounded,filled"];`,
		`edge [arrowhead="vee", fontname="Helvetica", fontsize="10"];`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dot output lacks %s\n%s", want, out)
		}
	}
	b.Reset()
	DOT(&b, fixtureHello(), Options{Direction: "rl"})
	if !strings.Contains(b.String(), `rankdir="RL"`) {
		t.Errorf("direction not applied:\n%s", b.String())
	}
	if _, err := ParseAttrs([]string{"novalue"}); err == nil {
		t.Error("ParseAttrs accepted a value without =")
	}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{ValidateFormat("gif"), "mermaid, dot, svg, png, pdf, tree, d3, cytoscape"},
		{ValidateEngine("osage"), "dot, neato, fdp, sfdp, twopi, circo"},
		{ValidateDirection("up"), "TB, LR, BT, RL"},
		{Render(context.Background(), &bytes.Buffer{}, fixtureHello(), "jpeg", Options{}), "valid: mermaid"},
		{Graphviz(context.Background(), &bytes.Buffer{}, []byte("digraph{}"), "gif", "dot"), "valid: svg, png, pdf"},
		{Graphviz(context.Background(), &bytes.Buffer{}, []byte("digraph{}"), "svg", "patchwork"), "valid: dot, neato"},
		{Mermaid(&bytes.Buffer{}, &Graph{Nodes: []Node{{Name: "a"}}, Edges: []Edge{{From: "a", To: "zz"}}}, Options{}), `unknown node "zz"`},
		{DOT(&bytes.Buffer{}, &Graph{Nodes: []Node{{Name: "a"}, {Name: "a"}}}, Options{}), `duplicate node "a"`},
		{DOT(&bytes.Buffer{}, fixtureHello(), Options{Direction: "sideways"}), "valid: TB"},
		{DOT(&bytes.Buffer{}, fixtureHello(), Options{Label: "{{.Name"}), "bad label template"},
		{DOT(&bytes.Buffer{}, fixtureHello(), Options{Label: "{{.Nope}}"}), "Nope"},
	}
	for i, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, c.err, c.want)
		}
	}
	for _, ok := range []error{ValidateFormat("svg"), ValidateEngine(""), ValidateEngine("circo"), ValidateDirection("lr")} {
		if ok != nil {
			t.Error(ok)
		}
	}
}

func TestLabelTemplate(t *testing.T) {
	tmpl := "{{.Name}}\n{{printf \"%.2f\" .Seconds}}s\n{{printf \"%.1f\" .MemoryMB}}MB{{if .Output}}\n{{.Output}}{{end}}{{if .ExitCode}} rc={{.ExitCode}}{{end}}"
	want := map[string]string{
		"mermaid":   `n_fetch["fetch<br/>1.23s<br/>12.0MB<br/>#lt;html#gt;… rc=0"]`,
		"dot":       `label="fetch\n1.23s\n12.0MB\n<html>… rc=0"`,
		"tree":      "fetch · 1.23s · 12.0MB · <html>… rc=0",
		"d3":        `"label": "fetch\n1.23s\n12.0MB\n<html>… rc=0"`,
		"cytoscape": `"label": "upload\n2.50s\n1.5MB rc=3"`,
	}
	for _, tf := range textFormats {
		var b bytes.Buffer
		if err := tf.fn(&b, fixtureRun(), Options{Label: tmpl}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want[tf.format]) {
			t.Errorf("%s: output lacks %s\n%s", tf.format, want[tf.format], b.String())
		}
	}
	// helper functions and fields without a run
	var b bytes.Buffer
	err := DOT(&b, fixtureHello(), Options{Label: `{{upper .Name}} [{{.Kind}}] {{trunc 6 .Command}} {{join .OutputNames ","}} {{if not .HasRun}}norun{{end}}`})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `label="HELLO [shell] echo … stdout norun"`) {
		t.Errorf("template funcs:\n%s", b.String())
	}
	d := NewLabelData(&fixtureRun().Nodes[0])
	if d.Output != "<html>…" || d.Outputs["headers"] != "200 OK" || d.ExitCode != "0" || d.Cache != "miss" {
		t.Errorf("NewLabelData = %+v", d)
	}
	if err := ParseLabel("{{dur .Duration}} {{mb .MemoryBytes}}"); err != nil {
		t.Error(err)
	}
}

func TestTreeSharedAndSources(t *testing.T) {
	var b bytes.Buffer
	if err := Tree(&b, fixtureDiamond(), Options{}); err != nil {
		t.Fatal(err)
	}
	want := "diamond\n└── d\n    ├── b\n    │   └── a\n    └── c\n        └── a (see above)\n"
	if b.String() != want {
		t.Errorf("sinks tree:\n%s\nwant:\n%s", b.String(), want)
	}
	if strings.Count(b.String(), "a (see above)") != 1 || strings.Count(b.String(), "── a\n") != 1 {
		t.Errorf("shared node a not shown once in full and once referenced")
	}
	b.Reset()
	if err := Tree(&b, fixtureDiamond(), Options{FromSources: true}); err != nil {
		t.Fatal(err)
	}
	want = "diamond\n└── a\n    ├── b\n    │   └── d\n    └── c\n        └── d (see above)\n"
	if b.String() != want {
		t.Errorf("sources tree:\n%s\nwant:\n%s", b.String(), want)
	}
	// every node appears even with a cycle (no sink)
	b.Reset()
	cyc := &Graph{Name: "cyc", Nodes: []Node{{Name: "x"}, {Name: "y"}}, Edges: []Edge{{From: "x", To: "y"}, {From: "y", To: "x"}}}
	if err := Tree(&b, cyc, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "x") || !strings.Contains(b.String(), "y") {
		t.Errorf("cycle tree lost nodes:\n%s", b.String())
	}
}

func TestTreeColor(t *testing.T) {
	var plain, color bytes.Buffer
	if err := Tree(&plain, fixtureRun(), Options{Color: false}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("Color=false output has escape codes: %q", plain.String())
	}
	if err := Tree(&color, fixtureRun(), Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	s := color.String()
	if !strings.Contains(s, "\x1b[31m") || !strings.Contains(s, "\x1b[32m") {
		t.Errorf("Color=true output lacks red/green escapes: %q", s)
	}
	stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(s, "")
	if stripped != plain.String() {
		t.Errorf("coloured tree differs from plain after stripping escapes:\n%s\n---\n%s", stripped, plain.String())
	}
}

// TestNoGraphvizImport guards the main binary's start-up time: pkg/render
// must not link go-graphviz (its init compiles WebAssembly).
func TestNoGraphvizImport(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/goccy/go-graphviz") || strings.HasPrefix(dep, "github.com/tetratelabs/wazero") ||
			strings.HasSuffix(dep, "/pkg/render/graphviz") {
			t.Errorf("pkg/render depends on %s", dep)
		}
	}
}
