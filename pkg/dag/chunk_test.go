package dag

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// bigYAML is a workflow over chunkThreshold with the layouts chunking must
// survive: comments, blank lines, block scalars, flow mappings.
func bigYAML(n int, extra string) []byte {
	var b bytes.Buffer
	b.WriteString("version: 1\nname: big\n# a comment\nparams:\n  p: {default: 1}\nnodes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  # node %d\n  n%d:\n    run: |\n      echo %d\n\n      echo done\n    env: {A: \"x\"}\n", i, i, i)
		if i > 0 {
			fmt.Fprintf(&b, "    needs: [n%d]\n", i-1)
		}
	}
	b.WriteString(extra)
	b.WriteString("viz:\n  direction: LR\n")
	return b.Bytes()
}

func wholeLoad(t *testing.T, data []byte) (*Workflow, error) {
	t.Helper()
	root, err := parseTree("big.yaml", data, YAML)
	if err != nil {
		return nil, err
	}
	resolveAliases(root, map[*yaml.Node]bool{})
	d := &decoder{file: "big.yaml"}
	w := d.workflow(root)
	if len(d.problems) > 0 {
		d.problems.sort()
		return w, d.problems
	}
	return w, nil
}

func TestChunkedLoadMatchesWhole(t *testing.T) {
	data := bigYAML(12000, "")
	if len(data) < chunkThreshold {
		t.Fatalf("test input is %d bytes, below the threshold", len(data))
	}
	if _, chunks, ok := splitNodes(data); !ok || len(chunks) < 2 {
		t.Fatalf("input was not cut (ok=%v, %d chunks)", ok, len(chunks))
	}
	got, err := Load("big.yaml", data, YAML)
	if err != nil {
		t.Fatal(err)
	}
	want, err := wholeLoad(t, data)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Encode(got, YAML)
	b, _ := Encode(want, YAML)
	if !bytes.Equal(a, b) {
		t.Fatal("chunked load differs from whole load")
	}
	last := got.Nodes[len(got.Nodes)-1]
	if wl := want.Nodes[len(want.Nodes)-1]; last.Pos != wl.Pos || last.NeedsPos != wl.NeedsPos {
		t.Errorf("positions differ: %v %v vs %v %v", last.Pos, last.NeedsPos, wl.Pos, wl.NeedsPos)
	}
}

func TestChunkedLoadProblems(t *testing.T) {
	data := bigYAML(12000, "  n5:\n    run: again\n  bad:\n    rn: x\n")
	_, err := Load("big.yaml", data, YAML)
	_, want := wholeLoad(t, data)
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Fatalf("chunked problems:\n%v\nwhole problems:\n%v", err, want)
	}
	if !strings.Contains(err.Error(), `duplicate node name "n5" (first defined at line`) {
		t.Errorf("missing duplicate across chunks: %v", err)
	}
}

// Anchors and aliases can reach across nodes, so such files are never cut.
func TestChunkingFallsBackOnAliases(t *testing.T) {
	data := bigYAML(12000, "  x: &common {run: echo, env: {A: a}}\n  y: *common\n  z:\n    <<: *common\n    env: {B: b}\n")
	if _, _, ok := splitNodes(data); ok {
		t.Fatal("a file with anchors was cut")
	}
	w, err := Load("big.yaml", data, YAML)
	if err != nil || w.Node("y").Run != "echo" {
		t.Fatalf("alias not resolved: %v", err)
	}
	if z := w.Node("z"); z.Run != "echo" || len(z.Env) != 1 || z.Env[0].Name != "B" {
		t.Errorf("merge key: z = run %q env %v", z.Run, z.Env)
	}
}

// JSON and msgpack stream their nodes; what loads must be what a whole
// parse gives, positions included (yaml.v3 reads JSON too, so it is the
// reference for JSON positions).
func TestStreamedLoadMatchesWhole(t *testing.T) {
	w, err := Load("big.yaml", bigYAML(3000, ""), YAML)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Encode(w, YAML)
	for _, f := range []Format{JSON, Msgpack} {
		data, err := Encode(w, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Load("big."+string(f), data, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b, _ := Encode(got, YAML); !bytes.Equal(b, want) {
			t.Errorf("%s: streamed load differs from the original", f)
		}
		if f != JSON {
			continue
		}
		root, err := parseYAML("big.json", data)
		if err != nil {
			t.Fatal(err)
		}
		ref := (&decoder{file: "big.json"}).workflow(root)
		for i := range ref.Nodes {
			if a, b := got.Nodes[i], ref.Nodes[i]; a.Pos != b.Pos || a.KindPos != b.KindPos || a.NeedsPos != b.NeedsPos {
				t.Fatalf("node %s: positions %v %v %v, yaml.v3 says %v %v %v", a.Name, a.Pos, a.KindPos, a.NeedsPos, b.Pos, b.KindPos, b.NeedsPos)
			}
		}
	}
}
