package dag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"gopkg.in/yaml.v3"
)

// Encode writes w in the given format in canonical form: keys in a fixed
// order, nodes and params in file order, with: maps sorted. Encoding what
// Encode wrote, in any format, gives the same bytes again, which is what
// makes YAML -> JSON -> msgpack -> YAML lossless and stable.
func Encode(w *Workflow, format Format) ([]byte, error) {
	tree := workflowTree(w)
	switch format {
	case YAML:
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(tree); err != nil {
			return nil, err
		}
		return buf.Bytes(), enc.Close()
	case JSON:
		var buf bytes.Buffer
		if err := writeJSON(&buf, tree, ""); err != nil {
			return nil, err
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	case Msgpack:
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		if err := writeMsgpack(enc, tree); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// ordered builds a mapping node from key/value pairs, skipping nil values.
type ordered struct{ n *yaml.Node }

func newMap() *ordered { return &ordered{&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}} }

func (o *ordered) set(key string, v *yaml.Node) {
	if v != nil {
		o.n.Content = append(o.n.Content, scalarNode(key), v)
	}
}

func str(s string) *yaml.Node {
	if s == "" {
		return nil
	}
	return scalarNode(s)
}

func strList(ss []string) *yaml.Node {
	if ss == nil {
		return nil
	}
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, s := range ss {
		n.Content = append(n.Content, scalarNode(s))
	}
	return n
}

func durNode(d time.Duration) *yaml.Node {
	if d == 0 {
		return nil
	}
	return scalarNode(d.String())
}

// valueNode converts a plain value (from with:, a default) to a node, with
// maps sorted by key.
func valueNode(v any) *yaml.Node {
	switch v := v.(type) {
	case map[string]any:
		m := newMap()
		for _, k := range sortedKeys(v) {
			m.set(k, valueNode(v[k]))
		}
		return m.n
	case []any:
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			s.Content = append(s.Content, valueNode(e))
		}
		return s
	}
	return scalarNode(v)
}

func workflowTree(w *Workflow) *yaml.Node {
	m := newMap()
	m.set("version", scalarNode(w.Version))
	m.set("name", str(w.Name))
	m.set("description", str(w.Description))
	if len(w.Params) > 0 {
		ps := newMap()
		for _, p := range w.Params {
			pm := newMap()
			if p.HasDefault {
				pm.n.Content = append(pm.n.Content, scalarNode("default"), valueNode(p.Default))
			}
			pm.set("type", str(p.Type))
			pm.set("description", str(p.Description))
			if p.Required {
				pm.set("required", scalarNode(true))
			}
			ps.set(p.Name, pm.n)
		}
		m.set("params", ps.n)
	}
	m.set("cache", cacheTree(w.Cache))
	ns := newMap()
	for _, n := range w.Nodes {
		ns.set(n.Name, nodeTree(n))
	}
	m.set("nodes", ns.n)
	if w.Viz != nil {
		z := newMap()
		z.set("direction", str(w.Viz.Direction))
		styles := func(s map[string]map[string]string) *yaml.Node {
			if s == nil {
				return nil
			}
			sm := newMap()
			for _, k := range sortedKeys(s) {
				am := newMap()
				for _, a := range sortedKeys(s[k]) {
					am.set(a, scalarNode(s[k][a]))
				}
				sm.set(k, am.n)
			}
			return sm.n
		}
		z.set("nodes", styles(w.Viz.Nodes))
		z.set("edges", styles(w.Viz.Edges))
		m.set("viz", z.n)
	}
	return m.n
}

func nodeTree(n *Node) *yaml.Node {
	m := newMap()
	m.set("description", str(n.Description))
	switch n.Kind {
	case KindShell:
		m.set("run", scalarNode(n.Run))
	case KindExec:
		m.set("exec", strList(n.Exec))
	case KindUses:
		m.set("uses", scalarNode(n.Uses))
	}
	if len(n.With) > 0 {
		m.set("with", valueNode(n.With))
	}
	if len(n.Inputs) > 0 {
		in := newMap()
		for _, i := range n.Inputs {
			in.set(i.Name, scalarNode(i.Ref.String()))
		}
		m.set("inputs", in.n)
	}
	if len(n.Needs) > 0 {
		needs := make([]string, len(n.Needs))
		for i, r := range n.Needs {
			needs[i] = r.String()
		}
		m.set("needs", strList(needs))
	}
	if len(n.Env) > 0 {
		env := newMap()
		for _, e := range n.Env {
			env.set(e.Name, scalarNode(e.Value))
		}
		m.set("env", env.n)
	}
	m.set("outputs", strList(n.Outputs))
	m.set("output", str(n.Output))
	m.set("timeout", durNode(n.Timeout))
	m.set("join", str(n.Join))
	m.set("dir", str(n.Dir))
	m.set("cache", cacheTree(n.Cache))
	m.set("sources", strList(n.Sources))
	return m.n
}

func cacheTree(c *CacheSpec) *yaml.Node {
	if c == nil {
		return nil
	}
	if c.TTL == 0 && c.Key == nil && c.Version == "" && c.When == "" {
		return scalarNode(c.Enabled)
	}
	m := newMap()
	m.set("ttl", durNode(c.TTL))
	m.set("key", strList(c.Key))
	m.set("version", str(c.Version))
	m.set("when", str(c.When))
	return m.n
}

// writeJSON writes a node tree as indented JSON, keeping mapping order.
func writeJSON(buf *bytes.Buffer, n *yaml.Node, indent string) error {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{\n")
		for i := 0; i+1 < len(n.Content); i += 2 {
			buf.WriteString(indent + "  ")
			jsonString(buf, n.Content[i].Value)
			buf.WriteString(": ")
			if err := writeJSON(buf, n.Content[i+1], indent+"  "); err != nil {
				return err
			}
			if i+2 < len(n.Content) {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteByte('[')
		for i, e := range n.Content {
			if i > 0 {
				buf.WriteString(", ")
			}
			if err := writeJSON(buf, e, indent); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			buf.WriteString("null")
		case "!!bool", "!!int":
			buf.WriteString(n.Value)
		case "!!float":
			if strings.Contains(n.Value, "inf") || strings.Contains(n.Value, "nan") {
				return fmt.Errorf("JSON cannot hold the number %s", n.Value)
			}
			buf.WriteString(n.Value)
		default:
			jsonString(buf, n.Value)
		}
	default:
		return fmt.Errorf("cannot encode YAML node kind %d as JSON", n.Kind)
	}
	return nil
}

// writeMsgpack writes a node tree as msgpack, keeping mapping order.
func writeMsgpack(enc *msgpack.Encoder, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		if err := enc.EncodeMapLen(len(n.Content) / 2); err != nil {
			return err
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := enc.EncodeString(n.Content[i].Value); err != nil {
				return err
			}
			if err := writeMsgpack(enc, n.Content[i+1]); err != nil {
				return err
			}
		}
		return nil
	case yaml.SequenceNode:
		if err := enc.EncodeArrayLen(len(n.Content)); err != nil {
			return err
		}
		for _, e := range n.Content {
			if err := writeMsgpack(enc, e); err != nil {
				return err
			}
		}
		return nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return enc.EncodeNil()
		case "!!bool":
			return enc.EncodeBool(n.Value == "true")
		case "!!int":
			i, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return err
			}
			return enc.EncodeInt(i)
		case "!!float":
			var x any
			if err := n.Decode(&x); err != nil {
				return err
			}
			f, _ := x.(float64)
			return enc.EncodeFloat64(f)
		}
		return enc.EncodeString(n.Value)
	}
	return fmt.Errorf("cannot encode YAML node kind %d as msgpack", n.Kind)
}

// jsonString writes s as a JSON string without HTML escaping: workflow
// text is full of <, > and & (shell redirects, comparisons), and
// "\u003e" in a converted file helps nobody.
func jsonString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
}
