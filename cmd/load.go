package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/fastdag/fastdag/pkg/dag"
	"github.com/fastdag/fastdag/pkg/nodes"
)

// workflowFlags are the flags every command that reads a workflow takes.
type workflowFlags struct {
	format     string
	params     []string
	paramsFile string
}

func (f *workflowFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "format", "", "workflow format: yaml, json or msgpack (default: from the extension)")
	cmd.Flags().StringArrayVarP(&f.params, "param", "p", nil, "set a param, as NAME=VALUE (repeatable)")
	cmd.Flags().StringVar(&f.paramsFile, "params", "", "read params from a JSON or YAML file")
}

// loaded is a workflow that passed validation, compiled, with its params.
type loaded struct {
	wf     *dag.Workflow
	plan   *dag.Plan
	params map[string]any
}

// load reads, validates and compiles the workflow at path, printing every
// problem to stderr. Problems make an exitError with code 2.
func (e *env) load(path string, f *workflowFlags) (*loaded, error) {
	wf, probs, err := e.check(path, f)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		e.printProblems(path, probs)
		return nil, &exitError{code: ExitInvalid, err: fmt.Errorf("%s is invalid", path), printed: true}
	}
	return wf, nil
}

// check is load without printing: it returns the problems found.
func (e *env) check(path string, f *workflowFlags) (*loaded, dag.Problems, error) {
	var format dag.Format
	if f.format != "" {
		var err error
		if format, err = dag.ParseFormat(f.format); err != nil {
			return nil, nil, invalid(err)
		}
	}
	wf, err := dag.LoadFile(path, format, e.stdin)
	var probs dag.Problems
	switch {
	case errors.As(err, &probs):
		if wf == nil {
			return nil, probs, nil
		}
	case err != nil:
		return nil, nil, invalid(err)
	}
	plan, err := dag.Compile(wf, nodes.NewRegistry().Compile)
	var more dag.Problems
	if errors.As(err, &more) {
		// Loading and compiling each report in file order; so does the sum.
		probs = append(probs, more...)
		sort.SliceStable(probs, func(i, j int) bool {
			a, b := probs[i].Pos, probs[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
	} else if err != nil {
		return nil, nil, invalid(err)
	}
	params, perr := e.params(wf, f)
	if perr != nil {
		var pe *dag.ParamError
		if !errors.As(perr, &pe) {
			return nil, nil, invalid(perr)
		}
		for _, m := range pe.Msgs {
			probs = append(probs, dag.Problem{Pos: dag.Pos{File: path}, Msg: m})
		}
	}
	return &loaded{wf: wf, plan: plan, params: params}, probs, nil
}

func (e *env) printProblems(path string, probs dag.Problems) {
	for _, p := range probs {
		fmt.Fprintln(e.stderr, p.String())
	}
	s := "s"
	if len(probs) == 1 {
		s = ""
	}
	fmt.Fprintf(e.stderr, "fastdag: %s is invalid: %d problem%s\n", path, len(probs), s)
}

// params resolves --params FILE and --param k=v against the declarations.
func (e *env) params(wf *dag.Workflow, f *workflowFlags) (map[string]any, error) {
	file, err := readParamsFile(f.paramsFile)
	if err != nil {
		return nil, err
	}
	flags := map[string]string{}
	for _, kv := range f.params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want NAME=VALUE", kv)
		}
		flags[k] = v
	}
	return dag.ResolveParams(wf, file, flags)
}

// stateDir is where runs of wf are recorded: --state-dir, FASTDAG_STATE_DIR,
// the config file, or .fastdag next to the workflow.
func (e *env) stateDir(wf *dag.Workflow) string {
	if d := e.cfg.GetString("state-dir"); d != "" {
		return d
	}
	return filepath.Join(wf.Dir, ".fastdag")
}

// readParamsFile reads --params FILE, JSON or YAML; "" reads nothing.
func readParamsFile(path string) (map[string]any, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file map[string]any
	if strings.EqualFold(filepath.Ext(path), ".json") {
		err = json.Unmarshal(data, &file)
	} else {
		err = yaml.Unmarshal(data, &file)
	}
	if err != nil {
		return nil, fmt.Errorf("--params %s: %v", path, err)
	}
	return file, nil
}
