package dag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/fastdag/fastdag/pkg/cachefs"
)

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
