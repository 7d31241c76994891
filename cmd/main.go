// Package cmd is the fastdag command line: a cobra tree with one file per
// subcommand. Main is the whole program; main.go only exits with its code.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	ExitOK          = 0
	ExitFailed      = 1   // a node failed, or a run timed out
	ExitInvalid     = 2   // invalid workflow, bad flags or arguments
	ExitInterrupted = 130 // SIGINT or SIGTERM
)

// memoryLimit is the default soft limit on the Go heap; GOMEMLIMIT
// overrides it.
const memoryLimit = 200 << 20

// exitError carries an exit code with the error to print.
type exitError struct {
	code int
	err  error
	// printed means the error was already shown in full (a problem list).
	printed bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error           { return &exitError{code: ExitInvalid, err: err} }
func invalidf(f string, a ...any) error { return invalid(fmt.Errorf(f, a...)) }

// Main runs fastdag with the process's arguments and streams and returns
// the exit code.
func Main() int {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// A soft heap limit: small workflows never reach it; a 100,000-node
		// one stays near it (the GC works harder) instead of doubling its
		// live heap, as the default GOGC would, on a shared CI runner.
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run is Main with explicit arguments and streams, for tests.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		// A panic is a bug in fastdag; say so in one line, never a stack.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "fastdag: internal error: %v (please report this)\n", r)
			code = 70
		}
	}()
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code = ExitFailed
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		if ee.printed {
			return code
		}
	case isUsageError(err):
		code = ExitInvalid
	}
	fmt.Fprintf(stderr, "fastdag: %v\n", err)
	return code
}

// isUsageError tells cobra's flag and argument errors, which it returns
// as plain errors, from failures of the command itself.
func isUsageError(err error) bool {
	var u *usageError
	// cobra reports an unknown subcommand with an untyped error.
	return errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command ")
}

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// args wraps a cobra argument validator so its errors are usage errors.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return &usageError{fmt.Errorf("%s: %v (see 'fastdag %s --help')", cmd.CommandPath(), err, cmd.Name())}
		}
		return nil
	}
}
