package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fastdag/fastdag/pkg/cachefs"
	"github.com/fastdag/fastdag/pkg/dag"
)

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
