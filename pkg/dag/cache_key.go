package dag

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/fastdag/fastdag/pkg/cachefs"
)

// CacheKeyFormat is hashed into every node's cache key. Bump it when the
// meaning of an ingredient changes, so old entries become unreachable
// instead of wrong.
const CacheKeyFormat = "fastdag-node-key/1"

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
		matches, err := doublestar.FilepathGlob(full) // ** crosses directories
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
