package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/fastdag/fastdag/pkg/dag"
)

func newRunCmd(e *env) *cobra.Command {
	var wf workflowFlags
	var from, until, only []string
	var output *string
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a workflow",
		Long: `Run validates the workflow, then runs its nodes in dependency order, up to
-j at a time, critical path first. Progress goes to stderr; with
--output json the run's record goes to stdout. Every run is recorded under
the state dir (default .fastdag next to the workflow).

Exit codes: 0 success, 1 a node failed or the run timed out, 2 invalid
workflow or usage, 130 interrupted (SIGINT/SIGTERM).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkOutput(*output); err != nil {
				return err
			}
			jobs := e.cfg.GetInt("jobs")
			if jobs < 0 {
				return &usageError{fmt.Errorf("--jobs %d: want a positive number", jobs)}
			}
			if jobs == 0 {
				jobs = runtime.NumCPU()
			}
			timeout := e.cfg.GetDuration("timeout")
			l, err := e.load(a[0], &wf)
			if err != nil {
				return err
			}
			wrap, err := e.runCache(cmd, l)
			if err != nil {
				return err
			}
			pr := newProgress(e.stderr, e.color(e.stderr), e.cfg.GetBool("quiet"))
			rec, err := l.plan.Run(cmd.Context(), dag.RunOptions{
				Jobs:      jobs,
				KeepGoing: e.cfg.GetBool("keep-going"),
				Timeout:   timeout,
				Params:    l.params,
				From:      from,
				Until:     until,
				Only:      only,
				StateDir:  e.stateDir(l.wf),
				Environ:   os.Environ(),
				Progress:  pr.event,
				Log:       liveLog(e.cfg.GetBool("verbose"), e.stderr),
				Wrap:      wrap,
			})
			if rec == nil {
				return invalid(err) // the selection or a partial run's inputs
			}
			pr.summary(l.wf, rec)
			if *output == "json" {
				b, jerr := json.MarshalIndent(rec, "", "  ")
				if jerr != nil {
					return jerr
				}
				fmt.Fprintln(e.stdout, string(b))
			}
			switch {
			case err == nil:
				return nil
			case errors.Is(err, context.Canceled) || rec.Status == dag.StatusInterrupted:
				return &exitError{code: ExitInterrupted, err: err}
			case errors.Is(err, dag.ErrNodesFailed):
				return &exitError{code: ExitFailed, err: err, printed: true}
			}
			return err
		},
	}
	wf.register(cmd)
	f := cmd.Flags()
	f.IntP("jobs", "j", 0, "run at most N nodes at once (default: number of CPUs; env FASTDAG_JOBS)")
	f.BoolP("keep-going", "k", false, "after a failure, run everything not downstream of it")
	f.Duration("timeout", 0, "stop the whole run after this long, e.g. 10m (0: no limit)")
	f.String("state-dir", "", "where run records go (default: .fastdag next to the workflow; env FASTDAG_STATE_DIR)")
	f.BoolP("quiet", "q", false, "print only failures and the summary")
	f.BoolP("verbose", "v", false, "stream process nodes' output to stderr as it comes, each line prefixed [node]")
	f.Bool("no-color", false, "never colour output (also NO_COLOR)")
	f.Bool("no-cache", false, "neither read nor write the result cache")
	f.Bool("refresh", false, "recompute cached nodes and overwrite their entries")
	f.String("cache-dir", "", "the result cache (default: cache in the state dir; env FASTDAG_CACHE_DIR)")
	f.StringSliceVar(&from, "from", nil, "run only NODE and what depends on it (repeatable)")
	f.StringSliceVar(&until, "until", nil, "run only NODE and what it depends on (repeatable)")
	f.StringSliceVar(&only, "only", nil, "run only these nodes (comma-separated or repeated)")
	output = outputFlag(f)
	return cmd
}

// liveLog is where -v streams node output: stderr, with the progress lines.
func liveLog(verbose bool, stderr io.Writer) io.Writer {
	if !verbose {
		return nil
	}
	return stderr
}
