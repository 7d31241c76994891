package dag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// RunOptions control one run of a plan.
type RunOptions struct {
	// Jobs bounds how many nodes run at once; <= 0 means runtime.NumCPU().
	Jobs int
	// Timeout bounds the whole run; 0 means none.
	Timeout time.Duration
	// KeepGoing runs everything not downstream of a failure instead of
	// stopping at the first one.
	KeepGoing bool
	// Params are the resolved parameter values (see ResolveParams).
	Params map[string]any
	// From, Until and Only select a partial run.
	From, Until, Only []string
	// Previous supplies results of nodes a partial run needs but does not
	// execute. When nil and the run is partial, the latest record in
	// StateDir is used.
	Previous *Record
	// StateDir is where the run record goes; "" writes no record.
	StateDir string
	// Environ is the base environment for process nodes.
	Environ []string
	// Log, when set, receives process nodes' output as it is written, each
	// line prefixed with the node's name (fastdag run -v).
	Log io.Writer
	// Progress, when set, is told as nodes start and finish. Calls are
	// serialized.
	Progress func(Event)
	// Wrap, when set, may wrap each node's action (the cache does).
	Wrap func(n *Node, a Action) Action
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// EventKind says what happened to a node.
type EventKind int

const (
	NodeStarted EventKind = iota
	NodeFinished
)

// Event is a progress report about one node.
type Event struct {
	Kind   EventKind
	Node   string
	Record *NodeRecord
}

// ErrNodesFailed is wrapped by Run's error when a node failed.
var ErrNodesFailed = errors.New("workflow failed")

// Run executes the plan and returns its record. The error is nil when every
// selected node succeeded or was skipped by a branch; it wraps
// ErrNodesFailed when a node failed, and ctx's error when the run was
// interrupted. The record is written to opts.StateDir at start and end.
func (p *Plan) Run(ctx context.Context, opts RunOptions) (*Record, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	sel, err := p.selection(opts.From, opts.Until, opts.Only)
	if err != nil {
		return nil, err
	}
	start := now()
	rec := &Record{
		Format:   RecordFormat,
		ID:       newRunID(start),
		Workflow: p.Workflow.Name,
		File:     p.Workflow.File,
		Status:   StatusRunning,
		Started:  start,
		Jobs:     jobs,
		Params:   opts.Params,
		Nodes:    make(map[string]*NodeRecord, len(p.nodes)),
		Order:    make([]string, 0, len(p.nodes)),
	}
	if len(opts.From)+len(opts.Until)+len(opts.Only) > 0 {
		rec.Partial = &Partial{From: opts.From, Until: opts.Until, Only: opts.Only}
	}

	r := &runner{
		plan:      p,
		opts:      opts,
		now:       now,
		rec:       rec,
		sel:       sel,
		remaining: make([]int32, len(p.nodes)),
		active:    make([]int32, len(p.nodes)),
		inactive:  make([]int32, len(p.nodes)),
		blocked:   make([]int32, len(p.nodes)),
		fired:     make([]bool, len(p.nodes)),
		results:   make([]*Result, len(p.nodes)),
		status:    make([]Status, len(p.nodes)),
		recs:      make([]*NodeRecord, len(p.nodes)),
		recBuf:    make([]NodeRecord, len(p.nodes)),
	}
	r.wake = sync.NewCond(&r.mu)
	if opts.Log != nil {
		r.log = &lineLog{w: opts.Log}
	}
	if err := r.reuse(); err != nil {
		return nil, err
	}
	if opts.StateDir != "" {
		r.files = &nodeFiles{dir: filepath.Join(RunDir(opts.StateDir, rec.ID), "nodes")}
		if err := WriteRecord(opts.StateDir, rec, false); err != nil {
			return nil, fmt.Errorf("writing run record: %w", err)
		}
	} else {
		r.files = &nodeFiles{temp: true}
		defer func() {
			if r.files.dir != "" {
				os.RemoveAll(r.files.dir)
			}
		}()
	}

	r.baseDir = p.Workflow.Dir
	if r.baseDir == "" {
		r.baseDir = "."
	}
	if abs, err := filepath.Abs(r.baseDir); err == nil {
		r.baseDir = abs
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.cancel = cancel
	if opts.Timeout > 0 {
		var tcancel context.CancelFunc
		runCtx, tcancel = context.WithTimeoutCause(runCtx, opts.Timeout, errRunTimeout)
		defer tcancel()
	}
	r.start()
	if r.left > 0 {
		var wg sync.WaitGroup
		for range min(jobs, r.left) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.worker(runCtx)
			}()
		}
		wg.Wait()
	}
	timedOut := context.Cause(runCtx) == errRunTimeout
	cancel()

	end := now()
	rec.Ended = end
	rec.DurationMS = ms(end.Sub(start))
	var failed []string
	for i := range p.nodes {
		if r.recs[i] != nil {
			rec.Nodes[p.nodes[i].node.Name] = r.recs[i]
			if r.recs[i].Status == StatusFailed {
				failed = append(failed, p.nodes[i].node.Name)
			}
		}
	}
	var runErr error
	switch {
	case ctx.Err() != nil:
		rec.Status = StatusInterrupted
		rec.Error = "interrupted"
		runErr = fmt.Errorf("run interrupted: %w", context.Cause(ctx))
	case timedOut:
		rec.Status = StatusFailed
		rec.Error = fmt.Sprintf("run timed out after %v", opts.Timeout)
		runErr = fmt.Errorf("%w: run timed out after %v", ErrNodesFailed, opts.Timeout)
	case len(failed) > 0:
		rec.Status = StatusFailed
		rec.Error = fmt.Sprintf("%d node(s) failed: %v", len(failed), failed)
		runErr = fmt.Errorf("%w: %d node(s) failed: %v", ErrNodesFailed, len(failed), failed)
	default:
		rec.Status = StatusSuccess
	}
	if opts.StateDir != "" {
		if err := WriteRecord(opts.StateDir, rec, true); err != nil && runErr == nil {
			runErr = fmt.Errorf("writing run record: %w", err)
		}
	}
	return rec, runErr
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
