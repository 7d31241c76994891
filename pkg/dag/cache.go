package dag

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/fastdag/fastdag/pkg/cachefs"
)

// CacheMode says how a run uses the cache.
type CacheMode int

const (
	// CacheReadWrite replays hits and stores misses.
	CacheReadWrite CacheMode = iota
	// CacheRefresh recomputes every cached node and overwrites its entry.
	CacheRefresh
)

// CacheOptions configure a Cache.
type CacheOptions struct {
	Mode CacheMode
	// Params are the run's parameter values, for ${params.NAME} in
	// cache versions.
	Params map[string]any
	// Warn, when set, is told about cache trouble that was worked around
	// (a damaged entry, a failed store). It may be called concurrently.
	Warn func(node string, err error)
}

// Cache connects a run to a cachefs cache. Its Wrap method is a
// RunOptions.Wrap: nodes with a cache policy look their result up before
// running and store it after; nodes without one are left alone.
type Cache struct {
	fs   *cachefs.Cache
	wf   *Workflow
	dir  string // the workflow's directory, absolute
	opts CacheOptions

	mu    sync.Mutex
	exprs *Exprs // compiled when: expressions
}

// NewCache returns the cache of w's nodes in c.
func NewCache(c *cachefs.Cache, w *Workflow, opts CacheOptions) *Cache {
	dir := w.Dir
	if dir == "" {
		dir = "."
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &Cache{fs: c, wf: w, dir: dir, opts: opts, exprs: NewExprs()}
}

// WorkflowName is the name entries of w are filed under: its name, or the
// base name of its file when it has none.
func WorkflowName(w *Workflow) string {
	if w.Name != "" {
		return w.Name
	}
	return filepath.Base(w.File)
}

// Wrap is a RunOptions.Wrap. It returns a unchanged for nodes without a
// cache policy, so they pay nothing.
func (c *Cache) Wrap(n *Node, a Action) Action {
	p := CachePolicy(c.wf, n)
	if p == nil {
		return a
	}
	return &cachedAction{c: c, n: n, a: a, p: p}
}

// cachedAction is a node's action behind the cache.
type cachedAction struct {
	c *Cache
	n *Node
	a Action
	p *CacheSpec
}

// errNotStorable stops GetOrCompute from storing a result that cannot be
// encoded; the node still succeeds, as a miss.
var errNotStorable = errors.New("result not storable")

func (ca *cachedAction) Run(ctx context.Context, inv *Invocation) (*Result, error) {
	c, n := ca.c, ca.n
	if ca.p.When != "" {
		ok, err := c.when(n, ca.p.When, inv.Inputs)
		if err != nil {
			return nil, &NodeError{Node: n.Name, Op: "cache", Err: err}
		}
		if !ok {
			res, err := ca.a.Run(ctx, inv)
			if err == nil && res != nil {
				res.Cache = "miss"
			}
			return res, err
		}
	}
	nk, err := c.key(n, ca.p, inv.Inputs)
	if err != nil {
		return nil, &NodeError{Node: n.Name, Op: "cache key", Err: err}
	}
	var res *Result
	var runErr error
	ran := false
	compute := func(ctx context.Context) (cachefs.Value, error) {
		ran = true
		res, runErr = ca.a.Run(ctx, inv)
		if runErr != nil {
			return cachefs.Value{}, runErr
		}
		v, err := c.value(n, ca.p, nk, inv, res)
		if err != nil {
			c.warn(n, err)
			return cachefs.Value{}, errNotStorable
		}
		return v, nil
	}

	var got *cachefs.Result
	if c.opts.Mode == CacheRefresh {
		got, err = c.fs.Refresh(ctx, nk.Key, compute)
	} else {
		got, err = c.fs.GetOrCompute(ctx, nk.Key, compute)
	}
	if got != nil {
		corrupt := false
		for _, w := range got.Warnings {
			// A damaged entry is seen before and after taking the
			// lock; once is enough.
			if errors.Is(w, cachefs.ErrCorrupt) {
				if corrupt {
					continue
				}
				corrupt = true
			}
			c.warn(n, w)
		}
	}
	switch {
	case ran && runErr != nil:
		return res, runErr // a failed run is never cached
	case ran && errors.Is(err, errNotStorable):
		res.Cache = "miss"
		return res, nil
	case err != nil:
		return nil, err // cancelled while waiting for another process
	case got.Computed:
		res.Cache, res.CacheKey = "stored", nk.Key.String()
		if _, err := c.fs.Backend().StatEntry(nk.Key); err != nil {
			res.Cache = "miss" // the store failed; already warned
		}
		return res, nil
	}
	hit, err := c.replay(inv, got.Outputs)
	if err != nil {
		// Cannot happen with verified blobs written by this code, but a
		// wrong replay must never pass for a result: run the node.
		c.warn(n, fmt.Errorf("cache entry %s: %w", nk.Key.Short(), err))
		res, err := ca.a.Run(ctx, inv)
		if err == nil && res != nil {
			res.Cache = "miss"
		}
		return res, err
	}
	hit.Cache, hit.CacheKey = "hit", nk.Key.String()
	return hit, nil
}

func (c *Cache) warn(n *Node, err error) {
	if c.opts.Warn != nil {
		c.opts.Warn(n.Name, err)
	}
}

// LatestRecord returns the latest finished run of w in stateDir, or nil.
func LatestRecord(stateDir string, w *Workflow) *Record { return latestRecordOf(stateDir, w) }

// InputsFromRecord gathers n's input values as a run would: parameters
// from params, upstream outputs from rec. It names the first upstream
// without a result.
func InputsFromRecord(n *Node, params map[string]any, rec *Record) (map[string]any, error) {
	in := make(map[string]any, len(n.Inputs))
	for _, b := range n.Inputs {
		if b.Ref.IsParam() {
			in[b.Name] = params[b.Ref.Output]
			continue
		}
		var nr *NodeRecord
		if rec != nil {
			nr = rec.Nodes[b.Ref.Node]
		}
		if nr == nil || !nr.Status.OK() {
			return nil, fmt.Errorf("input %s: node %s has no result in the latest run; run the workflow first", b.Name, b.Ref.Node)
		}
		if b.Ref.Output == "" {
			in[b.Name] = nr.Value
		} else {
			in[b.Name] = nr.Outputs[b.Ref.Output]
		}
	}
	return in, nil
}
