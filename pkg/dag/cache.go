package dag

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/fastdag/fastdag/pkg/cachefs"
)

// CacheKeyFormat is hashed into every node's cache key. Bump it when the
// meaning of an ingredient changes, so old entries become unreachable
// instead of wrong.
const CacheKeyFormat = "fastdag-node-key/1"

// resultBlob is the one blob a node's cache entry names: everything the
// node produced, in one file so that a hit costs two small reads (entry and
// blob) whatever the node made.
const resultBlob = "result"

// storedResult is the content of a result blob.
type storedResult struct {
	Value   json.RawMessage `json:"value"`
	Outputs json.RawMessage `json:"outputs,omitempty"`
	Branch  string          `json:"branch,omitempty"`
	// Stdout and Stderr are a process node's logs (base64 in the file).
	Stdout []byte `json:"stdout,omitempty"`
	Stderr []byte `json:"stderr,omitempty"`
}

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

// FS returns the underlying store.
func (c *Cache) FS() *cachefs.Cache { return c.fs }

// WorkflowName is the name entries of w are filed under: its name, or the
// base name of its file when it has none.
func WorkflowName(w *Workflow) string {
	if w.Name != "" {
		return w.Name
	}
	return filepath.Base(w.File)
}

// UsesCache reports whether any node of w has a cache policy.
func UsesCache(w *Workflow) bool {
	for _, n := range w.Nodes {
		if CachePolicy(w, n) != nil {
			return true
		}
	}
	return false
}

// CachePolicy returns n's effective cache policy, or nil when n is not
// cached. A node's own cache: settings win over the workflow's default,
// field by field; "cache: false" opts a node out of the default.
func CachePolicy(w *Workflow, n *Node) *CacheSpec {
	d, s := w.Cache, n.Cache
	if d != nil && !d.Enabled {
		d = nil
	}
	switch {
	case s == nil:
		return d
	case !s.Enabled:
		return nil
	case d == nil:
		return s
	}
	m := *s
	if m.TTL == 0 {
		m.TTL = d.TTL
	}
	if m.Key == nil {
		m.Key = d.Key
	}
	if m.Version == "" {
		m.Version = d.Version
	}
	if m.When == "" {
		m.When = d.When
	}
	return &m
}

// KeyedInputs returns the names of n's inputs that are part of its cache
// key under policy p: all inputs, or those listed in key:.
func KeyedInputs(n *Node, p *CacheSpec) []string {
	var names []string
	for _, in := range n.Inputs {
		if p.Key == nil || slices.Contains(p.Key, in.Name) {
			names = append(names, in.Name)
		}
	}
	return names
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

// NodeKey is the cache key of one invocation of a node, with what it was
// made of.
type NodeKey struct {
	Key cachefs.Key
	// Manifest lists the ingredients, for explaining misses.
	Manifest map[string]string
	// KeyedInputs holds the values of the keyed inputs, canonical JSON.
	KeyedInputs map[string]json.RawMessage
}

// Key computes n's cache key for the given input values. The ingredients
// are content only, never modification times: the key format, workflow and
// node name, kind, command text or argv or built-in and its with:, output
// mode and declared outputs, working dir, the keyed inputs' values,
// declared env:, the content of sources: files and the version string.
func (c *Cache) Key(n *Node, inputs map[string]any) (*NodeKey, error) {
	p := CachePolicy(c.wf, n)
	if p == nil {
		return nil, fmt.Errorf("node %s is not cached", n.Name)
	}
	return c.key(n, p, inputs)
}

func (c *Cache) key(n *Node, p *CacheSpec, inputs map[string]any) (*NodeKey, error) {
	kb := cachefs.NewKeyBuilder()
	kb.Add("format", CacheKeyFormat)
	kb.Add("workflow", WorkflowName(c.wf))
	kb.Add("node", n.Name)
	kb.Add("kind", string(n.Kind))
	switch n.Kind {
	case KindShell:
		kb.Add("run", n.Run)
	case KindExec:
		if err := kb.AddJSON("exec", n.Exec); err != nil {
			return nil, err
		}
	case KindUses:
		kb.Add("uses", n.Uses)
	}
	if len(n.With) > 0 {
		if err := kb.AddJSON("with", n.With); err != nil {
			return nil, err
		}
	}
	if n.Output != "" {
		kb.Add("output", n.Output)
	}
	if len(n.Outputs) > 0 {
		if err := kb.AddJSON("outputs", n.Outputs); err != nil {
			return nil, err
		}
	}
	if n.Dir != "" {
		kb.Add("dir", n.Dir)
	}
	nk := &NodeKey{KeyedInputs: map[string]json.RawMessage{}}
	for _, name := range KeyedInputs(n, p) {
		v, ok := inputs[name]
		if !ok {
			continue // join: any, upstream not finished
		}
		data, err := cachefs.CanonicalJSON(v)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		kb.AddBytes("input."+name, data)
		nk.KeyedInputs[name] = data
	}
	for _, e := range n.Env {
		kb.Add("env."+e.Name, e.Value)
	}
	if len(n.Sources) > 0 {
		if err := kb.AddJSON("sources", n.Sources); err != nil {
			return nil, err
		}
		files, err := c.sourceFiles(n)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			sum, err := hashFile(filepath.Join(c.dir, filepath.FromSlash(f)))
			if err != nil {
				return nil, fmt.Errorf("sources: %w", err)
			}
			kb.Add("source."+f, sum)
		}
	}
	if p.Version != "" {
		v, err := c.expandVersion(p.Version)
		if err != nil {
			return nil, err
		}
		kb.Add("version", v)
	}
	nk.Key = kb.Key()
	nk.Manifest = kb.Manifest()
	return nk, nil
}

// sourceFiles expands n's sources: globs against the workflow dir into
// sorted, slash-separated relative file names. A matched directory stands
// for every file below it, except in hidden directories (.git, and
// .fastdag, which holds the cache itself). A pattern without wildcards
// must exist.
func (c *Cache) sourceFiles(n *Node) ([]string, error) {
	seen := map[string]bool{}
	for _, pat := range n.Sources {
		full := pat
		if !filepath.IsAbs(full) {
			full = filepath.Join(c.dir, filepath.FromSlash(pat))
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			return nil, fmt.Errorf("sources: %q: %v", pat, err)
		}
		if len(matches) == 0 && !strings.ContainsAny(pat, `*?[\`) {
			return nil, fmt.Errorf("sources: %s: no such file", pat)
		}
		for _, m := range matches {
			err := filepath.WalkDir(m, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					if path != m && strings.HasPrefix(d.Name(), ".") {
						return filepath.SkipDir // .git, .fastdag (the cache itself)
					}
					return nil
				}
				rel, rerr := filepath.Rel(c.dir, path)
				if rerr != nil {
					rel = path
				}
				seen[filepath.ToSlash(rel)] = true
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("sources: %w", err)
			}
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// expandVersion expands ${params.NAME}, ${date} (2006-01-02), ${month}
// (2006-01), ${year} and ${week} (2006-W02), all UTC by the cache's clock,
// in a cache version string.
func (c *Cache) expandVersion(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("cache version %q: unterminated ${", s)
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		now := c.fs.Now().UTC()
		switch {
		case name == "date":
			b.WriteString(now.Format("2006-01-02"))
		case name == "month":
			b.WriteString(now.Format("2006-01"))
		case name == "year":
			b.WriteString(now.Format("2006"))
		case name == "week":
			y, w := now.ISOWeek()
			fmt.Fprintf(&b, "%d-W%02d", y, w)
		case strings.HasPrefix(name, ParamsNode+"."):
			v, ok := c.opts.Params[strings.TrimPrefix(name, ParamsNode+".")]
			if !ok {
				return "", fmt.Errorf("cache version: unknown parameter in ${%s}", name)
			}
			fmt.Fprint(&b, v)
		default:
			return "", fmt.Errorf("cache version: unknown ${%s}; want ${params.NAME}, ${date}, ${week}, ${month} or ${year}", name)
		}
		s = s[i+j+1:]
	}
}

// When evaluates n's when: expression over inputs. A node without one is
// always cached.
func (c *Cache) When(n *Node, inputs map[string]any) (bool, error) {
	p := CachePolicy(c.wf, n)
	if p == nil {
		return false, nil
	}
	return c.when(n, p.When, inputs)
}

func (c *Cache) when(n *Node, src string, inputs map[string]any) (bool, error) {
	if src == "" {
		return true, nil
	}
	prog, err := c.exprs.Compile(src, inputNames(n), false)
	if err != nil {
		return false, fmt.Errorf("cache when: %v", err)
	}
	out, err := Eval(prog, inputs)
	if err != nil {
		return false, fmt.Errorf("cache when %q: %v", src, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("cache when %q: got %T, want a bool", src, out)
	}
	return b, nil
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
		got, err = c.refresh(ctx, nk.Key, compute)
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

// refresh recomputes key under its lock and overwrites the entry.
func (c *Cache) refresh(ctx context.Context, key cachefs.Key, compute func(context.Context) (cachefs.Value, error)) (*cachefs.Result, error) {
	var warns []error
	unlock, err := c.fs.Lock(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		warns = append(warns, err)
		unlock = func() {}
	}
	defer unlock()
	v, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	e, err := c.fs.Put(ctx, key, v)
	if err != nil {
		warns = append(warns, err)
	}
	return &cachefs.Result{Entry: e, Outputs: v.Outputs, Computed: true, Warnings: warns}, nil
}

// value encodes a successful result for the cache.
func (c *Cache) value(n *Node, p *CacheSpec, nk *NodeKey, inv *Invocation, res *Result) (cachefs.Value, error) {
	if res == nil {
		res = &Result{}
	}
	var sr storedResult
	var err error
	if sr.Value, err = json.Marshal(res.Value); err != nil {
		return cachefs.Value{}, fmt.Errorf("not cached: value: %w", err)
	}
	if len(res.Outputs) > 0 {
		if sr.Outputs, err = json.Marshal(res.Outputs); err != nil {
			return cachefs.Value{}, fmt.Errorf("not cached: outputs: %w", err)
		}
	}
	sr.Branch = res.Branch
	for _, l := range []struct {
		name, path string
		dst        *[]byte
	}{{"stdout", res.Stdout, &sr.Stdout}, {"stderr", res.Stderr, &sr.Stderr}} {
		if l.path == "" {
			continue
		}
		path, _, err := inv.File(l.name)
		if err != nil {
			return cachefs.Value{}, fmt.Errorf("not cached: %w", err)
		}
		if *l.dst, err = os.ReadFile(path); err != nil {
			return cachefs.Value{}, fmt.Errorf("not cached: reading log: %w", err)
		}
	}
	blob, err := json.Marshal(&sr)
	if err != nil {
		return cachefs.Value{}, fmt.Errorf("not cached: %w", err)
	}
	return cachefs.Value{
		Workflow:    WorkflowName(c.wf),
		Node:        n.Name,
		Manifest:    nk.Manifest,
		KeyedInputs: nk.KeyedInputs,
		Outputs:     map[string][]byte{resultBlob: blob},
		TTL:         p.TTL,
	}, nil
}

// replay turns a hit's blob back into a result. Non-empty logs are written
// to the node's log files in this run, so the record's paths hold what the
// original run printed; empty ones are not written and have no path.
func (c *Cache) replay(inv *Invocation, blobs map[string][]byte) (*Result, error) {
	cr, err := DecodeCached(blobs)
	if err != nil {
		return nil, err
	}
	res := &Result{Value: cr.Value, Outputs: cr.Outputs, Branch: cr.Branch}
	for _, l := range []struct {
		name string
		data []byte
		dst  *string
	}{{"stdout", cr.Stdout, &res.Stdout}, {"stderr", cr.Stderr, &res.Stderr}} {
		if len(l.data) == 0 {
			continue
		}
		path, rel, err := inv.File(l.name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, l.data, 0o644); err != nil {
			return nil, err
		}
		*l.dst = rel
	}
	return res, nil
}

// CachedResult is what a cache entry of a node holds.
type CachedResult struct {
	Value          any
	Outputs        map[string]any
	Branch         string
	Stdout, Stderr []byte
}

// DecodeCached decodes the blobs of a node's cache entry, as returned by
// cachefs.Cache.Get.
func DecodeCached(blobs map[string][]byte) (*CachedResult, error) {
	var sr storedResult
	if err := json.Unmarshal(blobs[resultBlob], &sr); err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	cr := &CachedResult{Branch: sr.Branch, Stdout: sr.Stdout, Stderr: sr.Stderr}
	v, err := decodeJSON(sr.Value)
	if err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	cr.Value = v
	if sr.Outputs != nil {
		v, err := decodeJSON(sr.Outputs)
		if err != nil {
			return nil, fmt.Errorf("outputs: %w", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("outputs: not an object")
		}
		cr.Outputs = m
	}
	return cr, nil
}

// decodeJSON decodes a stored value. Integral numbers come back as int, as
// expressions produce them, others as float64.
func decodeJSON(data []byte) (any, error) {
	if data == nil {
		return nil, errors.New("missing")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return fromNumbers(v), nil
}

func fromNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return int(i)
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = fromNumbers(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = fromNumbers(v[k])
		}
	}
	return v
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

// checkCachePolicy reports mistakes in n's cache policy that would
// otherwise only show when the node runs: a when: expression that does not
// compile or reads a name that is not an input, a version template naming
// an unknown parameter, a malformed sources: glob.
func checkCachePolicy(w *Workflow, n *Node, probs *Problems) {
	p := CachePolicy(w, n)
	if p == nil {
		return
	}
	pos := n.posOf("cache")
	if n.Cache != nil && n.Cache.Pos.Line > 0 {
		pos = n.Cache.Pos
	}
	own := n.Cache != nil && n.Cache.When != ""
	if !own && p.When != "" && w.Cache != nil {
		pos = w.Cache.Pos
	}
	// A workflow default's when: is compiled once, at the first node.
	if p.When != "" && (own || n == w.Nodes[0]) {
		// Strict only for the node's own expression: a workflow default's
		// may name inputs that some nodes do not have.
		if _, err := NewExprs().Compile(p.When, inputNames(n), own); err != nil {
			probs.add(pos, "node %q: cache when: %v", n.Name, err)
		}
	}
	if v := p.Version; strings.Contains(v, "${") {
		for rest := v; ; {
			i := strings.Index(rest, "${")
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				probs.add(pos, "node %q: cache version %q: unterminated ${", n.Name, v)
				break
			}
			name := rest[i+2 : i+j]
			switch {
			case name == "date", name == "week", name == "month", name == "year":
			case strings.HasPrefix(name, ParamsNode+"."):
				if pn := strings.TrimPrefix(name, ParamsNode+"."); w.Param(pn) == nil {
					probs.add(pos, "node %q: cache version: unknown parameter in ${%s}", n.Name, name)
				}
			default:
				probs.add(pos, "node %q: cache version: unknown ${%s}; want ${params.NAME}, ${date}, ${week}, ${month} or ${year}", n.Name, name)
			}
			rest = rest[i+j+1:]
		}
	}
	for _, s := range n.Sources {
		if _, err := filepath.Match(s, ""); err != nil {
			probs.add(n.posOf("sources"), "node %q: sources: bad pattern %q", n.Name, s)
		}
	}
}
