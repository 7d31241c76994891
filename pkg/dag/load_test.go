package dag_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastdag/fastdag/pkg/dag"
)

const sample = `version: 1
name: etl
params:
  region: {default: eu, description: where}
  offset: {default: 2}
nodes:
  fetch:
    run: echo hi
    env: {URL: https://example.invalid}
    outputs: [body]
  count:
    uses: expr
    with: {expr: "len(data) + offset"}
    inputs: {data: fetch.body, offset: params.offset}
  report:
    exec: ["printf", "%s\n"]
    needs: [count]
    timeout: 30s
`

func TestLoadYAML(t *testing.T) {
	w, err := dag.Load("etl.yaml", []byte(sample), dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "etl" || len(w.Nodes) != 3 || len(w.Params) != 2 {
		t.Fatalf("got name %q, %d nodes, %d params", w.Name, len(w.Nodes), len(w.Params))
	}
	c := w.Node("count")
	if c.Kind != dag.KindUses || c.Uses != "expr" || c.Inputs[0].Ref != (dag.Ref{Node: "fetch", Output: "body"}) {
		t.Errorf("count = %+v", c)
	}
	if c.Pos.Line != 11 || c.Pos.Col != 3 {
		t.Errorf("count at %v, want line 11 col 3", c.Pos)
	}
	if p := w.Param("offset"); p.Type != "int" || p.Default != 2 {
		t.Errorf("offset param = %+v", p)
	}
	if r := w.Node("report"); r.Timeout.Seconds() != 30 || r.Exec[1] != "%s\n" {
		t.Errorf("report = %+v", r)
	}
}

// TestRoundTrip: YAML -> JSON -> msgpack -> YAML loses nothing and gives
// the same bytes as encoding the original.
func TestRoundTrip(t *testing.T) {
	w, err := dag.Load("etl.yaml", []byte(sample), dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	want, err := dag.Encode(w, dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	cur := w
	for _, f := range []dag.Format{dag.JSON, dag.Msgpack, dag.YAML} {
		data, err := dag.Encode(cur, f)
		if err != nil {
			t.Fatal(err)
		}
		if cur, err = dag.Load("x."+string(f), data, f); err != nil {
			t.Fatalf("%s: %v\n%s", f, err, data)
		}
	}
	got, _ := dag.Encode(cur, dag.YAML)
	if !bytes.Equal(got, want) {
		t.Errorf("round trip changed the workflow:\n--- want\n%s--- got\n%s", want, got)
	}
}

func TestLoadProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		format    dag.Format
		want      string
	}{
		{"yaml syntax", "version: 1\nnodes:\n  a: [\n", dag.YAML, "w:3:3: invalid YAML: did not find expected node content"},
		{"json syntax", "{\"version\": 1,\n \"nodes\": {]}", dag.JSON, "w:2:12: invalid JSON"},
		{"unknown key", "version: 1\nnodes:\n  a:\n    rn: echo\n", dag.YAML, `w:4:5: node "a": unknown key "rn" (did you mean "run"?)`},
		{"two kinds", "version: 1\nnodes:\n  a:\n    run: x\n    uses: expr\n", dag.YAML, `w:3:3: node "a": has both run and uses`},
		{"no kind", "version: 1\nnodes:\n  a: {}\n", dag.YAML, `w:3:3: node "a": needs one of run`},
		{"duplicate", "version: 1\nnodes:\n  a: {run: x}\n  a: {run: y}\n", dag.YAML, `w:4:3: duplicate node name "a" (first defined at line 3)`},
		{"version", "version: 7\nnodes:\n  a: {run: x}\n", dag.YAML, "w:1:10: unsupported workflow version 7"},
		{"msgpack", "\xc1", dag.Msgpack, "w: invalid msgpack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dag.Load("w", []byte(tc.src), tc.format)
			var ps dag.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dag.Load(f, data, dag.YAML); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
