package dag

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// runner is the state of one run. Everything below mu is guarded by it;
// workers hold it only to pop a node and to record its completion, never
// while a node runs.
type runner struct {
	plan    *Plan
	opts    RunOptions
	now     func() time.Time
	rec     *Record
	sel     []bool
	files   *nodeFiles // where process nodes keep their files
	log     *lineLog   // RunOptions.Log, shared by all nodes
	baseDir string     // the workflow's directory, absolute
	cancel  context.CancelFunc

	progressMu sync.Mutex

	mu       sync.Mutex
	wake     *sync.Cond // signalled when nodes become ready, or all are done
	idle     int        // workers waiting on wake
	ready    readyQueue
	left     int // selected nodes not yet finished
	stopping bool
	// Per node: unresolved in-edges and how the resolved ones went.
	remaining, active, inactive, blocked []int32
	fired                                []bool
	results                              []*Result
	status                               []Status
	recs                                 []*NodeRecord
	recBuf                               []NodeRecord // backs recs
}

// reuse takes, for a partial run, the results of unselected nodes from the
// previous record, failing when a selected node needs one that is missing.
func (r *runner) reuse() error {
	p := r.plan
	var prev *Record
	for i := range p.nodes {
		if r.sel[i] {
			continue
		}
		if prev == nil {
			prev = r.opts.Previous
			if prev == nil && r.opts.StateDir != "" {
				prev = latestRecordOf(r.opts.StateDir, p.Workflow)
			}
			if prev == nil {
				prev = &Record{}
			}
		}
		name := p.nodes[i].node.Name
		nr, ok := prev.Nodes[name]
		if !ok {
			continue
		}
		r.status[i] = nr.Status
		// Results carry over into this run's record, for the next partial
		// run; an earlier failure does not, or it would fail this run.
		if nr.Status.OK() || nr.Status == StatusSkipped {
			c := *nr
			// Log paths are relative to the run dir they were written in.
			if c.Stdout != "" && !strings.HasPrefix(c.Stdout, "../") {
				c.Stdout = "../" + prev.ID + "/" + c.Stdout
			}
			if c.Stderr != "" && !strings.HasPrefix(c.Stderr, "../") {
				c.Stderr = "../" + prev.ID + "/" + c.Stderr
			}
			r.recs[i] = &c
		}
		if nr.Status.OK() {
			r.results[i] = &Result{Value: nr.Value, Outputs: nr.Outputs, Branch: nr.Branch}
			if r.rec.Partial.Reused == nil {
				r.rec.Partial.Reused = map[string]string{}
			}
			r.rec.Partial.Reused[name] = prev.ID
		}
	}
	for i := range p.nodes {
		if !r.sel[i] {
			continue
		}
		for _, e := range p.nodes[i].in {
			ed := p.edges[e]
			up := ed.from
			if r.sel[up] || ed.input == "" {
				continue
			}
			if st := r.status[up]; !st.OK() && st != StatusSkipped {
				name := p.nodes[i].node.Name
				upName := p.nodes[up].node.Name
				why := "has no result in the latest run"
				if st != "" {
					why = fmt.Sprintf("was %s in the latest run", st)
				}
				return fmt.Errorf("node %s needs the output of %s, which is not part of this run and %s; run %s first (fastdag run FILE --until %s)", name, upName, why, upName, upName)
			}
		}
	}
	return nil
}

// start counts every selected node's in-edges and queues the ones that
// can be decided now.
func (r *runner) start() {
	p := r.plan
	r.mu.Lock()
	var decided []int32
	for i := range p.nodes {
		if !r.sel[i] {
			continue
		}
		r.left++
		for _, e := range p.nodes[i].in {
			ed := p.edges[e]
			if r.sel[ed.from] {
				r.remaining[i]++
				continue
			}
			// Upstream outside a partial run: an ordering-only edge is met;
			// a data edge is resolved by the upstream's earlier result.
			if ed.input == "" {
				r.active[i]++
			} else {
				r.resolveEdge(e)
			}
		}
		if r.remaining[i] == 0 || r.fired[i] {
			decided = append(decided, int32(i))
		}
	}
	var events []Event
	for _, i := range decided {
		events = r.decide(i, events)
	}
	r.checkDone()
	r.unlockAndEmit(events)
}

// resolveEdge records how edge e went, given its upstream's final status.
func (r *runner) resolveEdge(e int32) {
	ed := r.plan.edges[e]
	to := ed.to
	switch st := r.status[ed.from]; {
	case st.OK():
		res := r.results[ed.from]
		if ed.output != "" && len(r.plan.nodes[ed.from].branches) > 0 && res != nil && res.Branch != "" && ed.output != res.Branch &&
			containsBranch(r.plan.nodes[ed.from].branches, ed.output) {
			r.inactive[to]++
		} else {
			r.active[to]++
		}
	case st == StatusSkipped:
		r.inactive[to]++
	default:
		r.blocked[to]++
	}
}

func containsBranch(bs []string, b string) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// decide settles node i once enough of its edges are resolved: it queues
// it to run, or finishes it as skipped or not run, cascading to dependents
// without recursion. Called with mu held.
func (r *runner) decide(i int32, events []Event) []Event {
	stack := []int32{i}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if r.status[i] != "" {
			continue
		}
		n := r.plan.nodes[i].node
		any := n.Join == JoinAny
		var st Status
		var reason string
		switch {
		case !any && r.blocked[i] > 0:
			st, reason = StatusNotRun, "an upstream node did not succeed"
		case r.stopping:
			st, reason = StatusNotRun, "the run stopped before this node started"
		case any && r.active[i] > 0:
			r.fired[i] = true
		case r.remaining[i] > 0:
			continue // join: any waiting for its first upstream
		case r.blocked[i] > 0:
			st, reason = StatusNotRun, "an upstream node did not succeed"
		case r.inactive[i] > 0:
			st, reason = StatusSkipped, "on a branch not taken"
		}
		if st == "" {
			r.status[i] = StatusPending
			r.ready.push(readyItem{i, r.plan.nodes[i].prio})
			continue
		}
		nr := r.record(i, NodeRecord{Status: st, Kind: n.Kind, Reason: reason})
		events = r.finish(i, st, nil, nr, events)
		for _, e := range r.plan.nodes[i].out {
			if to := r.plan.edges[e].to; r.sel[to] && r.status[to] == "" {
				stack = append(stack, to)
			}
		}
	}
	return events
}

// finish records node i's final state and resolves its out-edges. Called
// with mu held; the caller decides the dependents.
func (r *runner) finish(i int32, st Status, res *Result, nr *NodeRecord, events []Event) []Event {
	r.status[i] = st
	r.results[i] = res
	r.recs[i] = nr
	r.left--
	for _, e := range r.plan.nodes[i].out {
		to := r.plan.edges[e].to
		if !r.sel[to] {
			continue
		}
		r.remaining[to]--
		r.resolveEdge(e)
	}
	if r.opts.Progress != nil {
		events = append(events, Event{Kind: NodeFinished, Node: r.plan.nodes[i].node.Name, Record: nr})
	}
	return events
}

// checkDone wakes every idle worker once the last node has finished, so
// they can return. Called with mu held.
func (r *runner) checkDone() {
	if r.left == 0 {
		r.wake.Broadcast()
	}
}

// unlockAndEmit releases mu and reports events. It takes progressMu
// before letting go of mu, so reports come out in the order the state
// changed: a node's start never precedes the finish that made it ready.
func (r *runner) unlockAndEmit(events []Event) {
	if r.opts.Progress == nil || len(events) == 0 {
		r.mu.Unlock()
		return
	}
	r.progressMu.Lock()
	r.mu.Unlock()
	for _, ev := range events {
		r.opts.Progress(ev)
	}
	r.progressMu.Unlock()
}

// worker runs ready nodes until the run is done. The lock is held except
// while a node runs. A worker that finishes a node takes the next ready one
// itself and wakes an idle worker only when more work is waiting, so a
// chain of in-process nodes never pays for a thread wake-up per node.
func (r *runner) worker(ctx context.Context) {
	r.mu.Lock()
	for {
		for r.ready.Len() == 0 && r.left > 0 {
			r.idle++
			r.wake.Wait()
			r.idle--
		}
		if r.left == 0 {
			r.mu.Unlock()
			return
		}
		i := r.ready.pop().node
		if r.ready.Len() > 0 && r.idle > 0 {
			r.wake.Signal()
		}
		stopping := r.stopping || ctx.Err() != nil
		if !stopping {
			r.status[i] = StatusRunning
			r.rec.Order = append(r.rec.Order, r.plan.nodes[i].node.Name)
		}
		inputs := r.inputs(i)
		var started []Event
		if !stopping && r.opts.Progress != nil {
			started = []Event{{Kind: NodeStarted, Node: r.plan.nodes[i].node.Name}}
		}
		r.unlockAndEmit(started)

		var nr *NodeRecord
		var res *Result
		st := StatusNotRun
		if stopping {
			nr = r.record(i, NodeRecord{Status: st, Kind: r.plan.nodes[i].node.Kind, Reason: "the run stopped before this node started"})
		} else {
			res, nr = r.execute(ctx, i, inputs)
			st = nr.Status
		}

		r.mu.Lock()
		if (st == StatusFailed && !r.opts.KeepGoing || st == StatusCancelled) && !r.stopping {
			r.stopping = true
			r.cancel()
		}
		events := r.finish(i, st, res, nr, nil)
		for _, e := range r.plan.nodes[i].out {
			if to := r.plan.edges[e].to; r.sel[to] && r.status[to] == "" &&
				(r.remaining[to] == 0 || r.plan.nodes[to].node.Join == JoinAny) {
				events = r.decide(to, events)
			}
		}
		r.checkDone()
		if len(events) > 0 && r.opts.Progress != nil {
			r.unlockAndEmit(events)
			r.mu.Lock()
		}
	}
}

// inputs gathers node i's input values: upstream outputs and params.
// Called with mu held.
func (r *runner) inputs(i int32) map[string]any {
	pn := &r.plan.nodes[i]
	if len(pn.node.Inputs) == 0 {
		return nil
	}
	in := make(map[string]any, len(pn.node.Inputs))
	for _, b := range pn.node.Inputs {
		if b.Ref.IsParam() {
			in[b.Name] = r.opts.Params[b.Ref.Output]
		}
	}
	for _, e := range pn.in {
		ed := r.plan.edges[e]
		if ed.input == "" {
			continue
		}
		res := r.results[ed.from]
		if res == nil || !r.status[ed.from].OK() {
			continue
		}
		if ed.output == "" {
			in[ed.input] = res.Value
		} else {
			in[ed.input] = res.Outputs[ed.output]
		}
	}
	return in
}

// execute runs node i's action with its timeout and turns the outcome into
// a record.
func (r *runner) execute(ctx context.Context, i int32, inputs map[string]any) (*Result, *NodeRecord) {
	pn := &r.plan.nodes[i]
	n := pn.node
	a := pn.action
	if r.opts.Wrap != nil {
		a = r.opts.Wrap(n, a)
	}
	inv := &Invocation{Node: n, Inputs: inputs, Dir: r.nodeDir(n), Environ: r.opts.Environ, files: r.files}
	if r.log != nil {
		inv.Stdout, inv.Stderr = r.log.writer(n.Name), r.log.writer(n.Name)
	}
	if n.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, n.Timeout, errTimeout)
		defer cancel()
	}
	started := r.now()
	res, err := runAction(ctx, a, inv)
	ended := r.now()
	nr := r.record(i, NodeRecord{Status: StatusSuccess, Kind: n.Kind, Started: started, Ended: ended, DurationMS: ms(ended.Sub(started))})
	if res != nil {
		nr.ExitCode, nr.MaxRSS, nr.Stdout, nr.Stderr = res.ExitCode, res.MaxRSS, res.Stdout, res.Stderr
		nr.Cache, nr.CacheKey = res.Cache, res.CacheKey
	}
	switch {
	case err == nil:
		nr.Value, nr.Outputs, nr.Branch = res.Value, res.Outputs, res.Branch
		if res.Cache == "hit" {
			nr.Status = StatusCached
		}
	case context.Cause(ctx) == errTimeout:
		nr.Status = StatusFailed
		nr.Error = (&NodeError{Node: n.Name, Op: "timeout", Err: fmt.Errorf("timed out after %v", n.Timeout)}).Error()
		res = nil
	case context.Cause(ctx) == errRunTimeout:
		nr.Status = StatusFailed
		nr.Error = (&NodeError{Node: n.Name, Op: "timeout", Err: fmt.Errorf("run timed out after %v", r.opts.Timeout)}).Error()
		res = nil
	case ctx.Err() != nil:
		nr.Status = StatusCancelled
		nr.Error = (&NodeError{Node: n.Name, Op: "cancelled", Err: err}).Error()
		res = nil
	default:
		nr.Status = StatusFailed
		var ne *NodeError
		if !errors.As(err, &ne) {
			err = &NodeError{Node: n.Name, Err: err}
		}
		nr.Error = err.Error()
		res = nil
	}
	return res, nr
}

var (
	errTimeout    = errors.New("node timed out")
	errRunTimeout = errors.New("run timed out")
)

func (r *runner) nodeDir(n *Node) string {
	switch {
	case n.Dir == "":
		return r.baseDir
	case filepath.IsAbs(n.Dir):
		return n.Dir
	}
	return filepath.Join(r.baseDir, n.Dir)
}

// runAction runs a node's action, turning a panic into the node's failure:
// a bug in one node kind must not take the run, and its record, with it.
func runAction(ctx context.Context, a Action, inv *Invocation) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, &NodeError{Node: inv.Node.Name, Op: "internal error", Err: fmt.Errorf("%v (please report this)", p)}
		}
	}()
	res, err = a.Run(ctx, inv)
	if err == nil && res == nil {
		res = &Result{}
	}
	return res, err
}

// record places node i's record in the run's one array of records: a
// single allocation for the whole run instead of one per node, which
// also keeps the records of a large run together in memory.
func (r *runner) record(i int32, nr NodeRecord) *NodeRecord {
	r.recBuf[i] = nr
	return &r.recBuf[i]
}
