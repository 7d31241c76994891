package cmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd(e *env) *cobra.Command {
	var wf workflowFlags
	var output *string
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a workflow without running it",
		Long: `Validate reads a workflow and reports every problem at once, each with
file:line:col: syntax errors, unknown keys, duplicate nodes, bad node
kinds, unknown references, unknown built-ins, cycles and missing params.
It exits 0 when the workflow is valid and 2 when it is not.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkOutput(*output); err != nil {
				return err
			}
			l, probs, err := e.check(a[0], &wf)
			if err != nil {
				return err
			}
			if *output == "json" {
				type problem struct {
					File    string `json:"file"`
					Line    int    `json:"line,omitempty"`
					Col     int    `json:"col,omitempty"`
					Message string `json:"message"`
				}
				out := struct {
					File     string    `json:"file"`
					Valid    bool      `json:"valid"`
					Nodes    int       `json:"nodes"`
					Problems []problem `json:"problems"`
				}{File: a[0], Valid: len(probs) == 0, Problems: []problem{}}
				if l != nil && l.wf != nil {
					out.Nodes = len(l.wf.Nodes)
				}
				for _, p := range probs {
					out.Problems = append(out.Problems, problem{p.Pos.File, p.Pos.Line, p.Pos.Col, p.Msg})
				}
				b, _ := json.MarshalIndent(out, "", "  ")
				fmt.Fprintln(e.stdout, string(b))
				if len(probs) > 0 {
					return &exitError{code: ExitInvalid, err: fmt.Errorf("%s is invalid", a[0]), printed: true}
				}
				return nil
			}
			if len(probs) > 0 {
				e.printProblems(a[0], probs)
				return &exitError{code: ExitInvalid, err: fmt.Errorf("%s is invalid", a[0]), printed: true}
			}
			fmt.Fprintf(e.stderr, "%s: ok (%d nodes)\n", a[0], len(l.wf.Nodes))
			return nil
		},
	}
	wf.register(cmd)
	output = outputFlag(cmd.Flags())
	return cmd
}
