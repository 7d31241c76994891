package cmd

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCmd(e *env) *cobra.Command {
	var output *string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print fastdag's version",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(*output); err != nil {
				return err
			}
			if *output == "json" {
				b, _ := json.MarshalIndent(map[string]string{
					"version": version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH,
				}, "", "  ")
				fmt.Fprintln(e.stdout, string(b))
				return nil
			}
			fmt.Fprintf(e.stdout, "fastdag %s %s/%s %s\n", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
			return nil
		},
	}
	output = outputFlag(cmd.Flags())
	return cmd
}
