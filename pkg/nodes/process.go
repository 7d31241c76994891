package nodes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fastdag/fastdag/pkg/dag"
)

// process runs a node as a child process: sh -c for run:, the argv itself
// for exec:. Each child gets its own process group so that cancellation
// reaches everything it started, and its output goes to files (not pipes)
// so a grandchild holding a descriptor can never wedge the run.
type process struct {
	node  *dag.Node
	argv  []string
	path  string // argv[0] resolved at compile time; "" resolves per run
	grace time.Duration
}

func (p *process) Run(ctx context.Context, inv *dag.Invocation) (*dag.Result, error) {
	n := p.node
	stdoutPath, stdoutRel, err := inv.File("stdout")
	if err != nil {
		return nil, &dag.NodeError{Node: n.Name, Op: "prepare", Err: err}
	}
	stderrPath, stderrRel, _ := inv.File("stderr")
	outputsPath, _, _ := inv.File("outputs")
	inputsPath, _, _ := inv.File("inputs.json")

	env := make([]string, 0, len(inv.Environ)+len(n.Env)+len(inv.Inputs)+4)
	env = append(env, inv.Environ...)
	for _, e := range n.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	for _, in := range n.Inputs {
		v, ok := inv.Inputs[in.Name]
		if !ok {
			continue
		}
		s, err := envValue(v)
		if err != nil {
			return nil, &dag.NodeError{Node: n.Name, Op: "input " + in.Name, Err: err}
		}
		env = append(env, "FASTDAG_INPUT_"+in.Name+"="+s)
	}
	if len(inv.Inputs) == 0 {
		// Every input-less node of a run shares one "{}": creating files
		// is most of what a tiny process node costs the file system.
		inputsPath = filepath.Join(filepath.Dir(inputsPath), ".no-inputs.json")
		if _, err := os.Stat(inputsPath); err != nil {
			if err := writeFileAtomic(inputsPath, []byte("{}")); err != nil {
				return nil, &dag.NodeError{Node: n.Name, Op: "prepare", Err: err}
			}
		}
	} else {
		all, err := json.Marshal(inv.Inputs)
		if err != nil {
			return nil, &dag.NodeError{Node: n.Name, Op: "inputs", Err: err}
		}
		if err := os.WriteFile(inputsPath, all, 0o644); err != nil {
			return nil, &dag.NodeError{Node: n.Name, Op: "prepare", Err: err}
		}
	}
	env = append(env, "FASTDAG_INPUTS="+inputsPath, "FASTDAG_OUTPUT="+outputsPath, "FASTDAG_NODE="+n.Name)

	// Output is held in memory and kept as a log file only when there is
	// some (spilling to the file early when there is a lot).
	stdout := &spill{path: stdoutPath}
	stderr := &spill{path: stderrPath}
	defer stdout.close()
	defer stderr.close()

	var cmd *exec.Cmd
	if p.path != "" {
		cmd = &exec.Cmd{Path: p.path, Args: p.argv}
	} else {
		cmd = exec.Command(p.argv[0], p.argv[1:]...)
	}
	cmd.Dir = inv.Dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = tee(stdout, inv.Stdout), tee(stderr, inv.Stderr)
	// A background child that keeps the output pipes open must not hold
	// the node up for ever once the node's own process has exited.
	cmd.WaitDelay = pipeDrain
	setGroup(cmd)
	res := &dag.Result{}
	// A missing dir: would fail Start as "fork/exec /bin/sh: no such file
	// or directory", blaming the program.
	if fi, err := os.Stat(inv.Dir); err != nil || !fi.IsDir() {
		return res, &dag.NodeError{Node: n.Name, Op: "dir", Err: fmt.Errorf("working directory %s does not exist", inv.Dir)}
	}
	if err := cmd.Start(); err != nil {
		return res, &dag.NodeError{Node: n.Name, Op: "start", Err: err}
	}
	waitErr := wait(ctx, cmd, p.grace)
	if errors.Is(waitErr, exec.ErrWaitDelay) {
		waitErr = nil // the node exited; only a straggler's output is lost
	}
	flush(inv.Stdout)
	flush(inv.Stderr)
	if err := stdout.close(); err != nil {
		return res, &dag.NodeError{Node: n.Name, Op: "stdout", Err: err}
	}
	if err := stderr.close(); err != nil {
		return res, &dag.NodeError{Node: n.Name, Op: "stderr", Err: err}
	}
	if stdout.kept {
		res.Stdout = stdoutRel
	}
	if stderr.kept {
		res.Stderr = stderrRel
	}
	if ps := cmd.ProcessState; ps != nil {
		code := ps.ExitCode()
		res.ExitCode = &code
		res.MaxRSS = maxRSS(ps)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if waitErr != nil {
		return res, &dag.NodeError{Node: n.Name, Op: "run", Err: withStderr(waitErr, stderrPath)}
	}

	out, err := stdout.bytes()
	if err != nil {
		return res, &dag.NodeError{Node: n.Name, Op: "read stdout", Err: err}
	}
	if n.Output == "json" {
		var v any
		if err := json.Unmarshal(bytes.TrimSpace(out), &v); err != nil {
			return res, &dag.NodeError{Node: n.Name, Op: "output", Err: fmt.Errorf("stdout is not valid JSON (output: json): %v", err)}
		}
		res.Value = v
	} else {
		res.Value = strings.TrimSpace(string(out))
	}
	outs, err := readOutputs(outputsPath)
	if err != nil {
		return res, &dag.NodeError{Node: n.Name, Op: "outputs", Err: err}
	}
	for name := range outs {
		if !n.HasOutput(name) {
			return res, &dag.NodeError{Node: n.Name, Op: "outputs", Err: fmt.Errorf("wrote undeclared output %q to $FASTDAG_OUTPUT; declared outputs: %s", name, strings.Join(n.Outputs, ", "))}
		}
	}
	for _, name := range n.Outputs {
		if _, ok := outs[name]; !ok {
			return res, &dag.NodeError{Node: n.Name, Op: "outputs", Err: fmt.Errorf("declared output %q was not written: write %s=VALUE to the file named by $FASTDAG_OUTPUT", name, name)}
		}
	}
	if len(outs) > 0 {
		res.Outputs = make(map[string]any, len(outs))
		for k, v := range outs {
			res.Outputs[k] = v
		}
	}
	return res, nil
}

// wait waits for cmd, and on cancellation sends SIGTERM to its process
// group, then SIGKILL after grace. It returns only once the child is
// reaped, so no node outlives its run.
func wait(ctx context.Context, cmd *exec.Cmd, grace time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	terminate(cmd)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		killGroup(cmd) // stragglers that ignored SIGTERM while the leader exited
		return err
	case <-t.C:
	}
	killGroup(cmd)
	return <-done
}

// envValue is how an input reaches a command's environment: strings as
// they are, everything else as JSON.
func envValue(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// withStderr adds the tail of the node's stderr to its failure, which is
// usually what the user needs to see first.
func withStderr(err error, path string) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = fmt.Errorf("exit code %d", ee.ExitCode())
		if ee.ExitCode() < 0 {
			err = fmt.Errorf("%v", ee.ProcessState)
		}
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	tail := strings.TrimSpace(strings.Join(lines, "\n"))
	if tail == "" {
		return err
	}
	return fmt.Errorf("%w\n%s", err, indent(tail))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// tee adds a live copy of a stream, when the run asked for one (-v).
func tee(w io.Writer, live io.Writer) io.Writer {
	if live == nil {
		return w
	}
	return io.MultiWriter(w, live)
}

// flush ends a live stream's last line.
func flush(live io.Writer) {
	if f, ok := live.(interface{ Flush() }); ok {
		f.Flush()
	}
}
