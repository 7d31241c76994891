package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// cacheWarn prints cache trouble that a run worked around.
func (e *env) cacheWarn(node string, err error) {
	e.warnMu.Lock()
	defer e.warnMu.Unlock()
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
