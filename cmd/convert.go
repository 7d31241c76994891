package cmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fastdag/fastdag/pkg/dag"
)

func newConvertCmd(e *env) *cobra.Command {
	var wf workflowFlags
	var to string
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert a workflow between YAML, JSON and msgpack",
		Long: `Convert writes IN in OUT's format (from OUT's extension, or --to), in
canonical form: converting YAML -> JSON -> msgpack -> YAML loses nothing,
and converting the same workflow twice gives the same bytes. Use - for
stdin or stdout.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			in, out := a[0], a[1]
			var format dag.Format
			var err error
			switch {
			case to != "":
				format, err = dag.ParseFormat(to)
			case out == "-":
				format = dag.YAML
			default:
				if format, err = dag.FormatOf(out); err != nil {
					err = fmt.Errorf("cannot tell the format of %s from its extension: use .yaml, .yml, .json or .msgpack, or --to yaml|json|msgpack", out)
				}
			}
			if err != nil {
				return invalid(err)
			}
			var f dag.Format
			if wf.format != "" {
				if f, err = dag.ParseFormat(wf.format); err != nil {
					return invalid(err)
				}
			}
			w, err := dag.LoadFile(in, f, e.stdin)
			var probs dag.Problems
			if errors.As(err, &probs) {
				e.printProblems(in, probs)
				return &exitError{code: ExitInvalid, err: err, printed: true}
			} else if err != nil {
				return invalid(err)
			}
			data, err := dag.Encode(w, format)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err = e.stdout.Write(data)
				return err
			}
			return os.WriteFile(out, data, 0o644)
		},
	}
	cmd.Flags().StringVar(&wf.format, "format", "", "input format: yaml, json or msgpack (default: from IN's extension)")
	cmd.Flags().StringVar(&to, "to", "", "output format: yaml, json or msgpack (default: from OUT's extension)")
	return cmd
}
