package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// buildGraphvizHelper builds cmd/fastdag-graphviz once per test run, for
// the scripts that draw svg, png or pdf (they find it via FASTDAG_GRAPHVIZ).
func buildGraphvizHelper(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test puts $GOROOT/bin first on PATH
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(t.TempDir(), "fastdag-graphviz")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	if b, err := exec.Command(goBin, "build", "-o", out, "./cmd/fastdag-graphviz").CombinedOutput(); err != nil {
		t.Fatalf("building the Graphviz helper: %v\n%s", err, b)
	}
	return out
}
