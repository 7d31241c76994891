package dag_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fastdag/fastdag/pkg/cachefs"
	"github.com/fastdag/fastdag/pkg/dag"
	"github.com/fastdag/fastdag/pkg/nodes"
)

// counter compiles nodes as the registry does and counts how often each
// node's action really runs.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) compile(n *dag.Node) (dag.Action, error) {
	a, err := nodes.NewRegistry().Compile(n)
	if err != nil {
		return nil, err
	}
	return dag.ActionFunc(func(ctx context.Context, inv *dag.Invocation) (*dag.Result, error) {
		c.mu.Lock()
		c.n[inv.Node.Name]++
		c.mu.Unlock()
		return a.Run(ctx, inv)
	}), nil
}

func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.n
	c.n = map[string]int{}
	return m
}

// clock is a fake time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type cacheEnv struct {
	t     *testing.T
	fs    *cachefs.Cache
	clock *clock
	count *counter
}

func newCacheEnv(t *testing.T) *cacheEnv {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	fc, err := cachefs.Open(t.TempDir(), cachefs.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return &cacheEnv{t: t, fs: fc, clock: clk, count: &counter{n: map[string]int{}}}
}

// run loads src, runs it through the cache and returns the record and the
// number of real executions per node.
func (e *cacheEnv) run(src string, params map[string]any, mode dag.CacheMode) (*dag.Record, map[string]int) {
	e.t.Helper()
	rec, err := e.tryRun(src, params, mode)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec, e.count.take()
}

func (e *cacheEnv) tryRun(src string, params map[string]any, mode dag.CacheMode) (*dag.Record, error) {
	e.t.Helper()
	w, err := dag.Load("wf.yaml", []byte(src), dag.YAML)
	if err != nil {
		e.t.Fatal(err)
	}
	w.Dir = e.t.TempDir()
	p, err := dag.Compile(w, e.count.compile)
	if err != nil {
		e.t.Fatal(err)
	}
	if params == nil {
		params = map[string]any{}
	}
	for _, pd := range w.Params {
		if _, ok := params[pd.Name]; !ok && pd.HasDefault {
			params[pd.Name] = pd.Default
		}
	}
	var warns []string
	c := dag.NewCache(e.fs, w, dag.CacheOptions{Mode: mode, Params: params, Warn: func(node string, err error) {
		warns = append(warns, node+": "+err.Error())
	}})
	rec, err := p.Run(context.Background(), dag.RunOptions{Jobs: 2, Params: params, Wrap: c.Wrap, Now: e.clock.now})
	if len(warns) > 0 {
		e.t.Errorf("cache warnings: %v", warns)
	}
	return rec, err
}

func wantCounts(t *testing.T, step string, got map[string]int, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: node %s ran %d times, want %d (all: %v)", step, k, got[k], v, got)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("%s: node %s ran %d times, want 0 (all: %v)", step, k, v, got)
		}
	}
}

func wantCache(t *testing.T, rec *dag.Record, node, cache string) {
	t.Helper()
	nr := rec.Nodes[node]
	if nr == nil {
		t.Fatalf("no record of node %s", node)
	}
	if nr.Cache != cache {
		t.Errorf("node %s: cache %q, want %q", node, nr.Cache, cache)
	}
	if (cache == "hit") != (nr.Status == dag.StatusCached) {
		t.Errorf("node %s: status %s with cache %q", node, nr.Status, cache)
	}
	if cache == "hit" || cache == "stored" {
		if len(nr.CacheKey) != 64 {
			t.Errorf("node %s: cache key %q", node, nr.CacheKey)
		}
	}
}

const ttlWF = `
version: 1
name: ttl
nodes:
  a:
    uses: expr
    with: {expr: "40"}
    cache: {ttl: 30m}
  b:
    uses: expr
    with: {expr: "x + 2"}
    inputs: {x: a}
    cache: true
`

func TestCacheTTL(t *testing.T) {
	e := newCacheEnv(t)
	rec, n := e.run(ttlWF, nil, dag.CacheReadWrite)
	wantCounts(t, "first run", n, map[string]int{"a": 1, "b": 1})
	wantCache(t, rec, "a", "stored")
	wantCache(t, rec, "b", "stored")

	e.clock.add(29 * time.Minute)
	rec, n = e.run(ttlWF, nil, dag.CacheReadWrite)
	wantCounts(t, "before expiry", n, nil)
	wantCache(t, rec, "a", "hit")
	wantCache(t, rec, "b", "hit")
	if v := rec.Nodes["b"].Value; fmt.Sprint(v) != "42" {
		t.Errorf("b replayed %v (%T), want 42", v, v)
	}

	// a expires; it reruns, produces the same value, and b (no TTL) is
	// still a hit: early cutoff.
	e.clock.add(2 * time.Minute)
	rec, n = e.run(ttlWF, nil, dag.CacheReadWrite)
	wantCounts(t, "after expiry", n, map[string]int{"a": 1})
	wantCache(t, rec, "a", "stored")
	wantCache(t, rec, "b", "hit")
}

func TestCacheEarlyCutoff(t *testing.T) {
	e := newCacheEnv(t)
	wf := func(aExpr string) string {
		return fmt.Sprintf(`
version: 1
name: cutoff
nodes:
  a: {uses: expr, with: {expr: %q}, cache: true}
  b: {uses: expr, with: {expr: "x * 2"}, inputs: {x: a}, cache: true}
  c: {uses: expr, with: {expr: "y + 1"}, inputs: {y: b}, cache: true}
`, aExpr)
	}
	_, n := e.run(wf("3"), nil, dag.CacheReadWrite)
	wantCounts(t, "first", n, map[string]int{"a": 1, "b": 1, "c": 1})
	// A different expression with the same value: a reruns, nothing else.
	rec, n := e.run(wf("1 + 2"), nil, dag.CacheReadWrite)
	wantCounts(t, "same output", n, map[string]int{"a": 1})
	wantCache(t, rec, "b", "hit")
	wantCache(t, rec, "c", "hit")
	// A different value reruns the chain.
	rec, n = e.run(wf("4"), nil, dag.CacheReadWrite)
	wantCounts(t, "new output", n, map[string]int{"a": 1, "b": 1, "c": 1})
	if v := rec.Nodes["c"].Value; fmt.Sprint(v) != "9" {
		t.Errorf("c = %v, want 9", v)
	}
}

func TestCacheKeyedInputs(t *testing.T) {
	e := newCacheEnv(t)
	const wf = `
version: 1
name: keyed
params:
  user: {default: ann}
  filters: {default: none}
nodes:
  report:
    uses: expr
    with: {expr: "user + '/' + filters"}
    inputs: {user: params.user, filters: params.filters}
    cache: {key: [user]}
  all:
    uses: expr
    with: {expr: "user + '/' + filters"}
    inputs: {user: params.user, filters: params.filters}
    cache: true
`
	_, n := e.run(wf, nil, dag.CacheReadWrite)
	wantCounts(t, "first", n, map[string]int{"report": 1, "all": 1})
	rec, n := e.run(wf, map[string]any{"filters": "f2"}, dag.CacheReadWrite)
	wantCounts(t, "non-keyed change", n, map[string]int{"all": 1})
	// The documented trade-off: a non-keyed input does not reach the key,
	// so the cached value (computed with the old filters) is replayed.
	if v := rec.Nodes["report"].Value; v != "ann/none" {
		t.Errorf("report = %v", v)
	}
	_, n = e.run(wf, map[string]any{"user": "bob"}, dag.CacheReadWrite)
	wantCounts(t, "keyed change", n, map[string]int{"report": 1, "all": 1})
}

func TestCacheFailureNotStored(t *testing.T) {
	e := newCacheEnv(t)
	const wf = `
version: 1
name: fails
nodes:
  bad:
    uses: expr
    with: {expr: "x.y.z"}
    inputs: {x: ok}
    cache: true
  ok:
    uses: expr
    with: {expr: "1"}
    cache: true
`
	for i := range 2 {
		rec, err := e.tryRun(wf, nil, dag.CacheReadWrite)
		if !errors.Is(err, dag.ErrNodesFailed) {
			t.Fatalf("run %d: err = %v, want a node failure", i, err)
		}
		if got := e.count.take()["bad"]; got != 1 {
			t.Errorf("run %d: bad ran %d times, want 1 (never cached)", i, got)
		}
		if rec.Nodes["bad"].Cache != "" {
			t.Errorf("run %d: failed node has cache %q", i, rec.Nodes["bad"].Cache)
		}
	}
	list, _ := e.fs.List()
	for _, en := range list {
		if en.Node == "bad" {
			t.Errorf("failed node stored an entry")
		}
	}
}

func TestCacheWhenRefreshOptOut(t *testing.T) {
	e := newCacheEnv(t)
	const wf = `
version: 1
name: modes
cache: {ttl: 1h}
params:
  n: {type: int, default: 1}
nodes:
  big:
    uses: expr
    with: {expr: "n * 10"}
    inputs: {n: params.n}
    cache: {when: "n > 5"}
  off:
    uses: expr
    with: {expr: "1"}
    cache: false
  dflt:
    uses: expr
    with: {expr: "2"}
`
	rec, n := e.run(wf, nil, dag.CacheReadWrite)
	wantCounts(t, "first", n, map[string]int{"big": 1, "off": 1, "dflt": 1})
	wantCache(t, rec, "big", "miss")
	wantCache(t, rec, "off", "")
	wantCache(t, rec, "dflt", "stored")
	rec, n = e.run(wf, nil, dag.CacheReadWrite)
	wantCounts(t, "second", n, map[string]int{"big": 1, "off": 1})
	wantCache(t, rec, "dflt", "hit")

	_, n = e.run(wf, map[string]any{"n": 7}, dag.CacheReadWrite)
	wantCounts(t, "when true", n, map[string]int{"big": 1, "off": 1})
	rec, n = e.run(wf, map[string]any{"n": 7}, dag.CacheReadWrite)
	wantCounts(t, "when true, again", n, map[string]int{"off": 1})
	wantCache(t, rec, "big", "hit")

	// The workflow default's TTL applies to nodes that set their own policy.
	e.clock.add(61 * time.Minute)
	_, n = e.run(wf, map[string]any{"n": 7}, dag.CacheReadWrite)
	wantCounts(t, "expired", n, map[string]int{"big": 1, "off": 1, "dflt": 1})

	rec, n = e.run(wf, map[string]any{"n": 7}, dag.CacheRefresh)
	wantCounts(t, "refresh", n, map[string]int{"big": 1, "off": 1, "dflt": 1})
	wantCache(t, rec, "dflt", "stored")
	list, _ := e.fs.List()
	dflt := 0
	for _, en := range list {
		if en.Node == "dflt" {
			dflt++
		}
	}
	if dflt != 1 {
		t.Errorf("refresh left %d entries of dflt, want 1 (overwritten)", dflt)
	}
}

func TestCacheVersionTemplate(t *testing.T) {
	e := newCacheEnv(t)
	const wf = `
version: 1
name: versions
params:
  rel: {default: r1}
nodes:
  daily:
    uses: expr
    with: {expr: "1"}
    cache: {version: "${params.rel}-${date}"}
`
	_, n := e.run(wf, nil, dag.CacheReadWrite)
	wantCounts(t, "first", n, map[string]int{"daily": 1})
	e.clock.add(time.Hour)
	_, n = e.run(wf, nil, dag.CacheReadWrite)
	wantCounts(t, "same day", n, nil)
	e.clock.add(24 * time.Hour)
	_, n = e.run(wf, nil, dag.CacheReadWrite)
	wantCounts(t, "next day", n, map[string]int{"daily": 1})
	_, n = e.run(wf, map[string]any{"rel": "r2"}, dag.CacheReadWrite)
	wantCounts(t, "new release", n, map[string]int{"daily": 1})
	list, _ := e.fs.List()
	var versions []string
	for _, en := range list {
		versions = append(versions, en.Manifest["version"])
	}
	slices.Sort(versions)
	if want := []string{"r1-2026-12-03", "r1-2026-12-04", "r2-2026-12-04"}; !slices.Equal(versions, want) {
		t.Errorf("version ingredients %v, want %v", versions, want)
	}
}

// TestCacheKeyIngredients checks that each ingredient moves the key and
// that equal values of different Go types do not.
func TestCacheKeyIngredients(t *testing.T) {
	fc, err := cachefs.Open(t.TempDir(), cachefs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := `
version: 1
name: k
nodes:
  up: {run: "true"}
  n:
    run: echo hi
    inputs: {x: up}
    env: {A: "1"}
    cache: {version: v1}
`
	key := func(src string, in map[string]any) string {
		w, err := dag.Load("k.yaml", []byte(src), dag.YAML)
		if err != nil {
			t.Fatal(err)
		}
		k, err := dag.NewCache(fc, w, dag.CacheOptions{}).Key(w.Node("n"), in)
		if err != nil {
			t.Fatal(err)
		}
		return k.Key.String()
	}
	k0 := key(base, map[string]any{"x": 3})
	if k := key(base, map[string]any{"x": 3.0}); k != k0 {
		t.Errorf("int 3 and float 3.0 give different keys")
	}
	for name, c := range map[string]struct {
		src string
		in  any
	}{
		"command": {strings.Replace(base, "echo hi", "echo ho", 1), 3},
		"env":     {strings.Replace(base, `A: "1"`, `A: "2"`, 1), 3},
		"version": {strings.Replace(base, "version: v1", "version: v2", 1), 3},
		"input":   {base, 4},
		"kind":    {strings.Replace(base, "run: echo hi", "exec: [echo, hi]", 1), 3},
		"name":    {strings.Replace(base, "name: k", "name: k2", 1), 3},
	} {
		if k := key(c.src, map[string]any{"x": c.in}); k == k0 {
			t.Errorf("changing the %s leaves the key unchanged", name)
		}
	}
}

func TestCacheWrapUncachedIsIdentity(t *testing.T) {
	fc, err := cachefs.Open(t.TempDir(), cachefs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := dag.Load("x.yaml", []byte("version: 1\nnodes:\n  a: {run: 'true'}\n"), dag.YAML)
	if err != nil {
		t.Fatal(err)
	}
	a := &nopAction{}
	if got := dag.NewCache(fc, w, dag.CacheOptions{}).Wrap(w.Node("a"), a); got != dag.Action(a) {
		t.Errorf("Wrap of an uncached node returned %T, want the action itself", got)
	}
	if dag.UsesCache(w) {
		t.Errorf("UsesCache = true for a workflow without cache:")
	}
}

type nopAction struct{}

func (*nopAction) Run(context.Context, *dag.Invocation) (*dag.Result, error) {
	return &dag.Result{}, nil
}

// BenchmarkCacheHit is the per-node cost of a fully cached rerun of a
// chain of expression nodes: key, lookup, verified read and replay.
func BenchmarkCacheHit(b *testing.B) {
	const n = 1000
	fc, err := cachefs.Open(b.TempDir(), cachefs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	w, err := dag.Load("bench.yaml", append([]byte("cache: true\n"), chainYAML(n)...), dag.YAML)
	if err != nil {
		b.Fatal(err)
	}
	p, err := dag.Compile(w, nodes.NewRegistry().Compile)
	if err != nil {
		b.Fatal(err)
	}
	c := dag.NewCache(fc, w, dag.CacheOptions{})
	opts := dag.RunOptions{Jobs: 2, Wrap: c.Wrap}
	rec, err := p.Run(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	if rec.Nodes["n1"].Cache != "stored" {
		b.Fatalf("first run: %q", rec.Nodes["n1"].Cache)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec, err := p.Run(context.Background(), opts)
		if err != nil || rec.Nodes["n1"].Status != dag.StatusCached {
			b.Fatal(err, rec.Nodes["n1"].Status)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/node")
}

// BenchmarkCacheKey is the cost of computing one node's key.
func BenchmarkCacheKey(b *testing.B) {
	fc, err := cachefs.Open(b.TempDir(), cachefs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	w, err := dag.Load("k.yaml", []byte(`
version: 1
nodes:
  up: {run: "true"}
  n:
    run: ./make-report "$FASTDAG_INPUT_user" "$FASTDAG_INPUT_date"
    inputs: {user: params.user, date: params.date}
    env: {MODE: fast}
    cache: {key: [user, date], version: v1}
params:
  user: {default: ann}
  date: {default: d}
`), dag.YAML)
	if err != nil {
		b.Fatal(err)
	}
	c := dag.NewCache(fc, w, dag.CacheOptions{})
	in := map[string]any{"user": "ann", "date": "2026-12-03"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Key(w.Node("n"), in); err != nil {
			b.Fatal(err)
		}
	}
}
