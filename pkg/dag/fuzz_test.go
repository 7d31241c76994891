package dag_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fastdag/fastdag/pkg/dag"
)

// seeds adds the examples and the sample, in format f, to a fuzz corpus.
func seeds(f *testing.F, format dag.Format) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	srcs := [][]byte{[]byte(sample)}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err == nil {
			srcs = append(srcs, b)
		}
	}
	for _, src := range srcs {
		w, err := dag.Load("seed.yaml", src, dag.YAML)
		if err != nil {
			continue
		}
		b, err := dag.Encode(w, format)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte("version: 1\nnodes: {a: {run: x, needs: [a]}}"))
}

// fuzzLoad checks that loading never panics and that whatever loads
// cleanly encodes to a canonical form that is stable.
func fuzzLoad(t *testing.T, data []byte, format dag.Format) {
	w, err := dag.Load("fuzz", data, format)
	if err != nil {
		return
	}
	for _, f := range dag.Formats {
		a, err := dag.Encode(w, f)
		if err != nil {
			continue // e.g. a NaN default has no JSON form
		}
		w2, err := dag.Load("fuzz", a, f)
		if err != nil {
			t.Fatalf("%s encoding does not load back: %v\n%q", f, err, a)
		}
		b, err := dag.Encode(w2, f)
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s encoding is not stable:\n%q\n%q", f, a, b)
		}
	}
}

func FuzzLoadYAML(f *testing.F) {
	seeds(f, dag.YAML)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, data, dag.YAML) })
}

func FuzzLoadJSON(f *testing.F) {
	seeds(f, dag.JSON)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, data, dag.JSON) })
}

func FuzzLoadMsgpack(f *testing.F) {
	seeds(f, dag.Msgpack)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, data, dag.Msgpack) })
}
