package dag

// Scalar and value readers for the decoder: each reports a type mismatch
// at the value's position.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

func (d *decoder) str(v *yaml.Node, what string) string {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		d.errorf(v, "%s: expected a string, found %s", what, kindName(v))
		return ""
	}
	return v.Value
}

// scalarString accepts any scalar and keeps its text, for env values and
// versions where "1" and 1 mean the same.
func (d *decoder) scalarString(v *yaml.Node, what string) string {
	if v.Kind != yaml.ScalarNode {
		d.errorf(v, "%s: expected a string, found %s", what, kindName(v))
		return ""
	}
	return v.Value
}

func (d *decoder) strings(v *yaml.Node, what string) []string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		return []string{v.Value}
	}
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "%s: expected a list of strings, found %s", what, kindName(v))
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for _, e := range v.Content {
		out = append(out, d.scalarString(e, what))
	}
	return out
}

func (d *decoder) int(v *yaml.Node, what string) (int, bool) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		if n, err := strconv.Atoi(v.Value); err == nil {
			return n, true
		}
	}
	d.errorf(v, "%s: expected an integer, found %s", what, kindName(v))
	return 0, false
}

func (d *decoder) bool(v *yaml.Node, what string) bool {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		b, _ := strconv.ParseBool(strings.ToLower(v.Value))
		return b
	}
	d.errorf(v, "%s: expected true or false, found %s", what, kindName(v))
	return false
}

// duration reads a Go duration ("1m30s") or a number of seconds.
func (d *decoder) duration(v *yaml.Node, what string) time.Duration {
	if v.Kind == yaml.ScalarNode {
		switch v.Tag {
		case "!!int", "!!float":
			if f, err := strconv.ParseFloat(v.Value, 64); err == nil && f >= 0 {
				return time.Duration(f * float64(time.Second))
			}
		case "!!str":
			if t, err := time.ParseDuration(v.Value); err == nil && t >= 0 {
				return t
			}
		}
	}
	d.errorf(v, "%s: expected a duration such as 30s, 5m or 1h30m, found %q", what, v.Value)
	return 0
}

// value decodes any node into plain Go values (map[string]any, []any,
// string, int, float64, bool, nil).
func (d *decoder) value(v *yaml.Node) any {
	var x any
	if err := v.Decode(&x); err != nil {
		d.errorf(v, "%v", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	return normalize(x)
}

// normalize turns yaml.v3's map[string]interface{} (and, for non-string
// keys, map[interface{}]interface{}) into map[string]any throughout.
func normalize(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			x[k] = normalize(v)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[fmt.Sprint(k)] = normalize(v)
		}
		return m
	case []any:
		for i, v := range x {
			x[i] = normalize(v)
		}
		return x
	case int64:
		return int(x)
	case uint64:
		if x > math.MaxInt64 {
			return float64(x) // as JSON reads it, rather than wrap negative
		}
		return int(x)
	}
	return x
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!null":
		return "nothing (null)"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	}
	return fmt.Sprintf("%s %s", strings.TrimPrefix(n.Tag, "!!"), n.Value)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
