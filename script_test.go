package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fastdag/fastdag/cmd"
)

// TestMain lets the test binary act as the fastdag command inside scripts:
// "exec fastdag ..." runs cmd.Main in a fresh process, as users run it.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fastdag": func() { os.Exit(cmd.Main()) },
	})
}

// TestScripts runs testdata/scripts/*.txtar: the CLI's behaviour as a
// user sees it, on real files and real processes.
func TestScripts(t *testing.T) {
	// svg, png and pdf run the Graphviz helper: build it once, and let all
	// scripts share its WebAssembly compilation cache.
	graphviz, graphvizCache := buildGraphvizHelper(t), t.TempDir()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/scripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			e.Setenv("EXAMPLES", filepath.Join(wd, "examples"))
			e.Setenv("NO_COLOR", "1")
			e.Setenv("FASTDAG_GRAPHVIZ", graphviz)
			e.Setenv("FASTDAG_GRAPHVIZ_CACHE", graphvizCache)
			return nil
		},
	})
}
