package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/fastdag/fastdag/pkg/cachefs"
	"github.com/fastdag/fastdag/pkg/dag"
)

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
upstream outputs come from the workflow's latest run record; --params FILE
and then --param flags override its parameters. It reports a hit, or the ingredients by
which the nearest entry of the node differs.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			w, n, err := c.nodeOf(a[0], &wff, a[1])
			if err != nil {
				return err
			}
			rec := dag.LatestRecord(c.e.stateDir(w), w)
			// The record's params first, then --params FILE, then --param.
			file, err := readParamsFile(wff.paramsFile)
			if err != nil {
				return invalid(err)
			}
			lf := wff
			lf.params = nil
			if rec != nil {
				for _, k := range slices.Sorted(maps.Keys(rec.Params)) {
					if _, inFile := file[k]; inFile || w.Param(k) == nil {
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
