package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fastdag/fastdag/pkg/cachefs"
	"github.com/fastdag/fastdag/pkg/dag"
)

// cacheDir is where the result cache lives: --cache-dir, FASTDAG_CACHE_DIR,
// the config file, or "cache" in the state dir (of wf, when there is one;
// else --state-dir or ./.fastdag).
func (e *env) cacheDir(wf *dag.Workflow) string {
	if d := e.cfg.GetString("cache-dir"); d != "" {
		return d
	}
	if wf != nil {
		return filepath.Join(e.stateDir(wf), "cache")
	}
	if d := e.cfg.GetString("state-dir"); d != "" {
		return filepath.Join(d, "cache")
	}
	return filepath.Join(".fastdag", "cache")
}

var warnMu sync.Mutex

// cacheWarn prints cache trouble that a run worked around.
func (e *env) cacheWarn(node string, err error) {
	warnMu.Lock()
	defer warnMu.Unlock()
	fmt.Fprintf(e.stderr, "fastdag: warning: node %s: cache: %s\n", node, strings.ReplaceAll(err.Error(), "\n", "\n    "))
}

// runCache returns the RunOptions.Wrap for a run of l, or nil when the run
// does not use the cache (--no-cache, or no node has a cache policy).
func (e *env) runCache(cmd *cobra.Command, l *loaded) (func(*dag.Node, dag.Action) dag.Action, error) {
	noCache, _ := cmd.Flags().GetBool("no-cache")
	refresh, _ := cmd.Flags().GetBool("refresh")
	if noCache && refresh {
		return nil, &usageError{errors.New("--no-cache and --refresh contradict each other")}
	}
	if noCache || !dag.UsesCache(l.wf) {
		return nil, nil
	}
	dir := e.cacheDir(l.wf)
	fc, err := cachefs.Open(dir, cachefs.Options{})
	if err != nil {
		// A run does not need its cache to be right: go on without it.
		fmt.Fprintf(e.stderr, "fastdag: warning: running without the cache: %v\n", err)
		return nil, nil
	}
	mode := dag.CacheReadWrite
	if refresh {
		mode = dag.CacheRefresh
	}
	c := dag.NewCache(fc, l.wf, dag.CacheOptions{Mode: mode, Params: l.params, Warn: e.cacheWarn})
	return c.Wrap, nil
}

func newCacheCmd(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Inspect and maintain the result cache",
		Long: `The result cache keeps the outputs of nodes with a cache: policy, keyed by
a hash of everything they depend on. It lives in "cache" under the state
dir (default .fastdag/cache next to the workflow, or in the current
directory for commands without a FILE); --cache-dir or FASTDAG_CACHE_DIR
move it. Every command is safe while runs are active.

Exit codes: 0 ok (verify exits 0 after repairing, listing what it
removed), 1 failure, 2 usage or invalid workflow.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.String("cache-dir", "", "the cache directory (default: cache in the state dir; env FASTDAG_CACHE_DIR)")
	pf.String("state-dir", "", "the state dir whose cache to use (env FASTDAG_STATE_DIR)")
	pf.StringVarP(&output, "output", "o", "text", "result format: text or json (on stdout)")
	cmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := e.loadConfig(cmd); err != nil {
			return err
		}
		return checkOutput(output)
	}
	c := &cacheCmds{e: e, output: &output}
	cmd.AddCommand(c.ls(), c.show(), c.explain(), c.invalidate(), c.gc(), c.clear(), c.verify())
	return cmd
}

type cacheCmds struct {
	e      *env
	output *string
}

func (c *cacheCmds) json() bool { return *c.output == "json" }

func (c *cacheCmds) printJSON(v any) error {
	enc := json.NewEncoder(c.e.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// open opens the cache in dir. Without create, a missing directory is an
// empty cache (nil, nil), so looking does not create anything.
func (c *cacheCmds) open(dir string, create bool) (*cachefs.Cache, error) {
	if !create {
		if _, err := os.Stat(filepath.Join(dir, "VERSION")); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return cachefs.Open(dir, cachefs.Options{})
}

// entryInfo is an entry as ls and show print it.
type entryInfo struct {
	Key         string                     `json:"key"`
	Workflow    string                     `json:"workflow"`
	Node        string                     `json:"node"`
	Size        int64                      `json:"size"`
	Created     time.Time                  `json:"created"`
	LastUsed    time.Time                  `json:"last_used"`
	Expires     *time.Time                 `json:"expires,omitempty"`
	Expired     bool                       `json:"expired"`
	KeyedInputs map[string]json.RawMessage `json:"keyed_inputs,omitempty"`
	Manifest    map[string]string          `json:"manifest,omitempty"`
	Outputs     map[string]cachefs.BlobRef `json:"outputs,omitempty"`
}

func infoOf(en *cachefs.Entry, now time.Time, full bool) entryInfo {
	in := entryInfo{Key: en.Key.String(), Workflow: en.Workflow, Node: en.Node, Size: en.Size,
		Created: en.Created, LastUsed: en.LastUsed.UTC(), Expired: en.Expired(now), KeyedInputs: en.KeyedInputs}
	if !en.Expires.IsZero() {
		t := en.Expires
		in.Expires = &t
	}
	if full {
		in.Manifest, in.Outputs = en.Manifest, en.Outputs
	}
	return in
}

func (c *cacheCmds) ls() *cobra.Command {
	var node, workflow string
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List cache entries: key, node, size, age, last use, expiry",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, err := c.open(c.e.cacheDir(nil), false)
			if err != nil {
				return err
			}
			var list []*cachefs.Entry
			now := time.Now()
			if fc != nil {
				all, err := fc.List()
				if err != nil {
					return err
				}
				for _, en := range all {
					if (node == "" || en.Node == node) && (workflow == "" || en.Workflow == workflow) {
						list = append(list, en)
					}
				}
			}
			if c.json() {
				infos := make([]entryInfo, 0, len(list))
				for _, en := range list {
					infos = append(infos, infoOf(en, now, false))
				}
				return c.printJSON(infos)
			}
			tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tWORKFLOW\tNODE\tSIZE\tAGE\tLAST USE\tEXPIRES")
			for _, en := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", en.Key.Short(), en.Workflow, en.Node, size(en.Size),
					age(now.Sub(en.Created)), age(now.Sub(en.LastUsed))+" ago", expiry(en, now))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&node, "node", "", "only entries of this node")
	cmd.Flags().StringVar(&workflow, "workflow", "", "only entries of this workflow (by name)")
	return cmd
}

func (c *cacheCmds) show() *cobra.Command {
	return &cobra.Command{
		Use:   "show KEY",
		Short: "Show one entry: its ingredients, keyed inputs and outputs (a unique key prefix will do)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			prefix := strings.ToLower(a[0])
			fc, err := c.open(c.e.cacheDir(nil), false)
			if err != nil {
				return err
			}
			var found []*cachefs.Entry
			if fc != nil {
				all, err := fc.List()
				if err != nil {
					return err
				}
				for _, en := range all {
					if strings.HasPrefix(en.Key.String(), prefix) {
						found = append(found, en)
					}
				}
			}
			switch {
			case prefix == "":
				return invalidf("cache show: empty key")
			case len(found) == 0:
				return fmt.Errorf("cache show: no entry with key %s", a[0])
			case len(found) > 1:
				return invalidf("cache show: key prefix %s is ambiguous: %d entries match", a[0], len(found))
			}
			in := infoOf(found[0], time.Now(), true)
			if c.json() {
				return c.printJSON(in)
			}
			w := c.e.stdout
			fmt.Fprintf(w, "key:       %s\nworkflow:  %s\nnode:      %s\nsize:      %s\ncreated:   %s\nlast use:  %s\nexpires:   %s\n",
				in.Key, in.Workflow, in.Node, size(in.Size), in.Created.Format(time.RFC3339), in.LastUsed.Format(time.RFC3339), expiry(found[0], time.Now()))
			fmt.Fprintln(w, "ingredients:")
			for _, k := range slices.Sorted(maps.Keys(in.Manifest)) {
				fmt.Fprintf(w, "  %s: %s\n", k, in.Manifest[k])
			}
			if len(in.KeyedInputs) > 0 {
				fmt.Fprintln(w, "keyed inputs:")
				for _, k := range slices.Sorted(maps.Keys(in.KeyedInputs)) {
					fmt.Fprintf(w, "  %s: %s\n", k, in.KeyedInputs[k])
				}
			}
			fmt.Fprintln(w, "blobs:")
			for _, k := range slices.Sorted(maps.Keys(in.Outputs)) {
				fmt.Fprintf(w, "  %s: %s (%s)\n", k, size(in.Outputs[k].Size), in.Outputs[k].ID.String()[:12])
			}
			res, err := fc.Get(found[0].Key)
			if err != nil {
				fmt.Fprintf(w, "result: unreadable: %v\n", err)
				return nil
			}
			cr, err := dag.DecodeCached(res.Outputs)
			if err != nil {
				fmt.Fprintf(w, "result: unreadable: %v\n", err)
				return nil
			}
			fmt.Fprintf(w, "value: %s\n", preview(cr.Value))
			for _, k := range slices.Sorted(maps.Keys(cr.Outputs)) {
				fmt.Fprintf(w, "output %s: %s\n", k, preview(cr.Outputs[k]))
			}
			if cr.Branch != "" {
				fmt.Fprintf(w, "branch: %s\n", cr.Branch)
			}
			fmt.Fprintf(w, "logs: stdout %s, stderr %s\n", size(int64(len(cr.Stdout))), size(int64(len(cr.Stderr))))
			return nil
		},
	}
}

// nodeOf loads the workflow at path (without resolving params) and finds
// the node called name.
func (c *cacheCmds) nodeOf(path string, wf *workflowFlags, name string) (*dag.Workflow, *dag.Node, error) {
	var format dag.Format
	if wf.format != "" {
		var err error
		if format, err = dag.ParseFormat(wf.format); err != nil {
			return nil, nil, invalid(err)
		}
	}
	w, err := dag.LoadFile(path, format, c.e.stdin)
	var probs dag.Problems
	if errors.As(err, &probs) {
		c.e.printProblems(path, probs)
		return nil, nil, &exitError{code: ExitInvalid, err: fmt.Errorf("%s is invalid", path), printed: true}
	}
	if err != nil {
		return nil, nil, invalid(err)
	}
	n := w.Node(name)
	if n == nil {
		names := make([]string, len(w.Nodes))
		for i, n := range w.Nodes {
			names[i] = n.Name
		}
		return nil, nil, invalidf("%s: no node %q%s", path, name, dag.DidYouMean(name, names))
	}
	return w, n, nil
}

// explanation is what cache explain found.
type explanation struct {
	Node    string            `json:"node"`
	Cached  bool              `json:"cached"` // the node has a cache policy that applies
	Hit     bool              `json:"hit"`
	Key     string            `json:"key,omitempty"`
	Reason  string            `json:"reason"`
	Nearest string            `json:"nearest,omitempty"`
	Diff    []string          `json:"differences,omitempty"`
	Inputs  map[string]any    `json:"inputs,omitempty"`
	Recipe  map[string]string `json:"ingredients,omitempty"`
}

func (c *cacheCmds) explain() *cobra.Command {
	var wff workflowFlags
	cmd := &cobra.Command{
		Use:   "explain FILE NODE",
		Short: "Say whether NODE would hit, or which ingredient differs from its nearest entry",
		Long: `Explain computes NODE's cache key as the next run would: parameters and
upstream outputs come from the workflow's latest run record, and --param
flags override its parameters. It reports a hit, or the ingredients by
which the nearest entry of the node differs.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			w, n, err := c.nodeOf(a[0], &wff, a[1])
			if err != nil {
				return err
			}
			rec := dag.LatestRecord(c.e.stateDir(w), w)
			// The record's params first, so --param wins.
			lf := wff
			lf.params = nil
			if rec != nil {
				for _, k := range slices.Sorted(maps.Keys(rec.Params)) {
					if w.Param(k) == nil {
						continue
					}
					v := rec.Params[k]
					s, ok := v.(string)
					if !ok {
						b, _ := json.Marshal(v)
						s = string(b)
					}
					lf.params = append(lf.params, k+"="+s)
				}
			}
			lf.params = append(lf.params, wff.params...)
			l, err := c.e.load(a[0], &lf)
			if err != nil {
				return err
			}
			n = l.wf.Node(n.Name)
			ex := explanation{Node: n.Name}
			fc, err := c.open(c.e.cacheDir(l.wf), false)
			if err != nil {
				return err
			}
			switch {
			case dag.CachePolicy(l.wf, n) == nil:
				ex.Reason = "node has no cache policy"
				return c.printExplanation(ex)
			case fc == nil:
				// Nothing stored yet; open a throwaway to compute keys.
				tmp, err := os.MkdirTemp("", "fastdag-explain-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				if fc, err = cachefs.Open(tmp, cachefs.Options{}); err != nil {
					return err
				}
			}
			ex.Cached = true
			inputs, err := dag.InputsFromRecord(n, l.params, rec)
			if err != nil {
				return fmt.Errorf("cache explain: %w", err)
			}
			ex.Inputs = inputs
			cache := dag.NewCache(fc, l.wf, dag.CacheOptions{Params: l.params})
			ok, err := cache.When(n, inputs)
			if err != nil {
				return fmt.Errorf("cache explain: %w", err)
			}
			if !ok {
				ex.Cached = false
				ex.Reason = "not cached for these inputs: the when: expression is false"
				return c.printExplanation(ex)
			}
			nk, err := cache.Key(n, inputs)
			if err != nil {
				return fmt.Errorf("cache explain: %w", err)
			}
			ex.Key, ex.Recipe = nk.Key.String(), nk.Manifest
			res, err := fc.Get(nk.Key)
			switch {
			case err == nil:
				ex.Hit = true
				ex.Reason = "hit: entry created " + res.Entry.Created.Format(time.RFC3339)
				return c.printExplanation(ex)
			case !errors.Is(err, cachefs.ErrNotFound):
				ex.Reason = "miss: " + err.Error()
				return c.printExplanation(ex)
			}
			all, err := fc.List()
			if err != nil {
				return err
			}
			var nearest *cachefs.Entry
			for _, en := range all {
				if en.Workflow != dag.WorkflowName(l.wf) || en.Node != n.Name {
					continue
				}
				d := cachefs.DiffManifests(en.Manifest, nk.Manifest)
				if nearest == nil || len(d) < len(ex.Diff) {
					nearest, ex.Diff = en, d
				}
			}
			if nearest == nil {
				ex.Reason = "miss: no entry for this node yet"
			} else {
				ex.Nearest = nearest.Key.String()
				ex.Reason = fmt.Sprintf("miss: the nearest entry %s (created %s) differs in %d ingredient(s)", nearest.Key.Short(), nearest.Created.Format(time.RFC3339), len(ex.Diff))
			}
			return c.printExplanation(ex)
		},
	}
	wff.register(cmd)
	return cmd
}

func (c *cacheCmds) printExplanation(ex explanation) error {
	if c.json() {
		return c.printJSON(ex)
	}
	w := c.e.stdout
	if ex.Key != "" {
		fmt.Fprintf(w, "%s: key %s\n", ex.Node, ex.Key[:12])
	}
	fmt.Fprintf(w, "%s: %s\n", ex.Node, ex.Reason)
	for _, d := range ex.Diff {
		fmt.Fprintf(w, "  %s\n", d)
	}
	return nil
}

func (c *cacheCmds) invalidate() *cobra.Command {
	var wff workflowFlags
	var exact, match []string
	cmd := &cobra.Command{
		Use:   "invalidate FILE NODE [--input k=v ... | --match k=v ...]",
		Short: "Remove entries of a node: all, the one for exact inputs, or those matching a pattern",
		Long: `Invalidate removes cache entries of NODE (of the workflow in FILE).

  --input k=v   exact: the entries whose keyed inputs are exactly these;
                give every keyed input of the node.
  --match k=v   pattern: every entry whose keyed input k matches v, a glob
                (* ? [..]) on the value as a string (JSON for non-strings).
  neither       every entry of the node.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if len(exact) > 0 && len(match) > 0 {
				return &usageError{errors.New("cache invalidate: use --input or --match, not both")}
			}
			w, n, err := c.nodeOf(a[0], &wff, a[1])
			if err != nil {
				return err
			}
			want, err := pairs(exact, "--input")
			if err != nil {
				return err
			}
			pats, err := pairs(match, "--match")
			if err != nil {
				return err
			}
			if p := dag.CachePolicy(w, n); p != nil {
				keyed := dag.KeyedInputs(n, p)
				for k := range mergeKeys(want, pats) {
					if !slices.Contains(keyed, k) {
						return invalidf("cache invalidate: %q is not a keyed input of node %s%s; keyed inputs: %s", k, n.Name, dag.DidYouMean(k, keyed), orNone(keyed))
					}
				}
				if len(want) > 0 {
					for _, k := range keyed {
						if _, ok := want[k]; !ok {
							return invalidf("cache invalidate: --input needs every keyed input of node %s; missing %s (use --match for a pattern)", n.Name, k)
						}
					}
				}
			}
			fc, err := c.open(c.e.cacheDir(w), false)
			if err != nil {
				return err
			}
			var removed []string
			if fc != nil {
				all, err := fc.List()
				if err != nil {
					return err
				}
				for _, en := range all {
					if en.Workflow != dag.WorkflowName(w) || en.Node != n.Name {
						continue
					}
					switch {
					case len(exact) > 0 && (len(en.KeyedInputs) != len(want) || !en.MatchInputs(want)):
						continue
					case len(match) > 0 && !matchInputs(en, pats):
						continue
					}
					if err := fc.Delete(en.Key); err != nil && !errors.Is(err, cachefs.ErrNotFound) {
						return err
					}
					removed = append(removed, en.Key.String())
				}
			}
			if c.json() {
				return c.printJSON(map[string]any{"node": n.Name, "removed": orEmpty(removed)})
			}
			fmt.Fprintf(c.e.stdout, "removed %d entr%s of node %s\n", len(removed), plural(len(removed), "y", "ies"), n.Name)
			return nil
		},
	}
	wff.register(cmd)
	cmd.Flags().StringArrayVar(&exact, "input", nil, "an exact keyed input value, as NAME=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&match, "match", nil, "a keyed input pattern, as NAME=GLOB (repeatable)")
	return cmd
}

func pairs(kvs []string, flag string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, &usageError{fmt.Errorf("%s %q: want NAME=VALUE", flag, kv)}
		}
		m[k] = v
	}
	return m, nil
}

func mergeKeys(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// matchInputs reports whether every pattern matches its keyed input: a
// glob on the value's string form (the string itself, or compact JSON).
func matchInputs(en *cachefs.Entry, pats map[string]string) bool {
	for k, pat := range pats {
		raw, ok := en.KeyedInputs[k]
		if !ok {
			return false
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		if ok, err := path.Match(pat, s); err != nil || !ok {
			if !en.MatchInputs(map[string]string{k: pat}) {
				return false
			}
		}
	}
	return true
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// gcJSON is a GC or Clear report for --output json.
type gcJSON struct {
	RemovedEntries int      `json:"removed_entries"`
	RemovedBlobs   int      `json:"removed_blobs"`
	Freed          int64    `json:"freed_bytes"`
	SkippedLocked  int      `json:"skipped_locked"`
	Entries        int      `json:"entries"`
	Blobs          int      `json:"blobs"`
	Size           int64    `json:"size_bytes"`
	Problems       []string `json:"problems"`
}

func (c *cacheCmds) printGC(verb string, r *cachefs.GCReport) error {
	j := gcJSON{r.RemovedEntries, r.RemovedBlobs, r.Freed, r.SkippedLocked, r.Entries, r.Blobs, r.Size, errStrings(r.Problems)}
	if c.json() {
		return c.printJSON(j)
	}
	fmt.Fprintf(c.e.stdout, "%s: removed %d entries and %d blobs, freed %s", verb, j.RemovedEntries, j.RemovedBlobs, size(j.Freed))
	if verb == "gc" {
		fmt.Fprintf(c.e.stdout, "; left %d entries, %s", j.Entries, size(j.Size))
	}
	if j.SkippedLocked > 0 {
		fmt.Fprintf(c.e.stdout, "; kept %d in use", j.SkippedLocked)
	}
	fmt.Fprintln(c.e.stdout)
	for _, p := range j.Problems {
		fmt.Fprintf(c.e.stderr, "fastdag: %s\n", p)
	}
	return nil
}

func errStrings(errs []error) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func (c *cacheCmds) gc() *cobra.Command {
	var maxSize, maxAge string
	cmd := &cobra.Command{
		Use:   "gc [--max-size 1GB] [--max-age 30d]",
		Short: "Remove expired, unused (--max-age) and least recently used (--max-size) entries",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts cachefs.GCOptions
			var err error
			if maxSize != "" {
				if opts.MaxSize, err = parseSize(maxSize); err != nil {
					return &usageError{fmt.Errorf("--max-size: %v", err)}
				}
			}
			if maxAge != "" {
				if opts.MaxAge, err = parseAge(maxAge); err != nil {
					return &usageError{fmt.Errorf("--max-age: %v", err)}
				}
			}
			fc, err := c.open(c.e.cacheDir(nil), false)
			if err != nil {
				return err
			}
			r := &cachefs.GCReport{}
			if fc != nil {
				if r, err = fc.GC(cmd.Context(), opts); err != nil {
					return err
				}
			}
			return c.printGC("gc", r)
		},
	}
	cmd.Flags().StringVar(&maxSize, "max-size", "", "trim least recently used entries until the cache is this small (e.g. 500MB, 1GB)")
	cmd.Flags().StringVar(&maxAge, "max-age", "", "remove entries unused for this long (e.g. 30d, 12h)")
	return cmd
}

func (c *cacheCmds) clear() *cobra.Command {
	return &cobra.Command{
		Use:   "clear",
		Short: "Remove every entry",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, err := c.open(c.e.cacheDir(nil), false)
			if err != nil {
				return err
			}
			r := &cachefs.GCReport{}
			if fc != nil {
				if r, err = fc.Clear(cmd.Context()); err != nil {
					return err
				}
			}
			return c.printGC("clear", r)
		},
	}
}

func (c *cacheCmds) verify() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check every entry and blob, removing damaged ones (exit 0 after repairing)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, err := c.open(c.e.cacheDir(nil), false)
			if err != nil {
				return err
			}
			r := &cachefs.VerifyReport{}
			if fc != nil {
				if r, err = fc.Verify(cmd.Context()); err != nil {
					return err
				}
			}
			probs := errStrings(r.Problems)
			if c.json() {
				return c.printJSON(map[string]any{"entries": r.Entries, "blobs": r.Blobs,
					"removed_entries": r.RemovedEntries, "removed_blobs": r.RemovedBlobs, "problems": probs})
			}
			for _, p := range probs {
				fmt.Fprintf(c.e.stdout, "problem: %s\n", p)
			}
			fmt.Fprintf(c.e.stdout, "verify: checked %d entries and %d blobs: %d problem(s), removed %d entries and %d blobs\n",
				r.Entries, r.Blobs, len(probs), r.RemovedEntries, r.RemovedBlobs)
			return nil
		},
	}
}

// parseSize reads 1GB, 500MB, 10KiB, 123 (bytes). K/M/G/T are powers of
// 1000, KiB/MiB/GiB/TiB powers of 1024.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	units := []struct {
		suf string
		n   float64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.n
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("invalid size %q: want a positive number with an optional unit, e.g. 500MB or 1GB", s)
	}
	return int64(f * mult), nil
}

// parseAge reads Go durations plus days and weeks: 30d, 2w, 12h, 90m.
func parseAge(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	for _, u := range []struct {
		suf string
		d   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(t, u.suf); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil || f <= 0 {
				break
			}
			return time.Duration(f * float64(u.d)), nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid age %q: want e.g. 30d, 2w, 12h", s)
	}
	return d, nil
}

func size(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%dB", n)
	case n < 1e6:
		return fmt.Sprintf("%.1fkB", float64(n)/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.1fMB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fGB", float64(n)/1e9)
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func expiry(en *cachefs.Entry, now time.Time) string {
	switch {
	case en.Expires.IsZero():
		return "never"
	case en.Expired(now):
		return "expired"
	}
	return "in " + age(en.Expires.Sub(now))
}
