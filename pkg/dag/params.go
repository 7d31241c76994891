package dag

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// typeOf infers a param type from its default value.
func typeOf(v any) string {
	switch v.(type) {
	case bool:
		return "bool"
	case int:
		return "int"
	case float64:
		return "float"
	case map[string]any, []any:
		return "json"
	}
	return "string"
}

// ConvertParam converts v to p's type. Strings (from --param k=v) are
// parsed; values from a params file or a default must already fit.
func ConvertParam(p *Param, v any) (any, error) {
	s, isStr := v.(string)
	switch p.Type {
	case "", "string":
		switch v := v.(type) {
		case string:
			return v, nil
		case int, float64, bool:
			return fmt.Sprint(v), nil
		}
	case "int":
		switch v := v.(type) {
		case int:
			return v, nil
		case float64:
			if v == float64(int(v)) {
				return int(v), nil
			}
		}
		if isStr {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				return n, nil
			}
		}
	case "float":
		switch v := v.(type) {
		case float64:
			return v, nil
		case int:
			return float64(v), nil
		}
		if isStr {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return f, nil
			}
		}
	case "bool":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if isStr {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				return b, nil
			}
		}
	case "json":
		if !isStr {
			return v, nil
		}
		var x any
		if err := json.Unmarshal([]byte(s), &x); err == nil {
			return normalizeJSON(x), nil
		}
		return nil, fmt.Errorf("%q is not valid JSON", s)
	}
	return nil, fmt.Errorf("%s is not a valid %s", describe(v), p.Type)
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// normalizeJSON turns encoding/json's float64 integers into ints, so that
// values compare and print the same whichever format they came from.
func normalizeJSON(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			x[k] = normalizeJSON(v)
		}
	case []any:
		for i, v := range x {
			x[i] = normalizeJSON(v)
		}
	case float64:
		if x == float64(int(x)) && x < 1<<53 && x > -(1<<53) {
			return int(x)
		}
	}
	return x
}

// ParamError is a problem with the values given for parameters.
type ParamError struct {
	Msgs []string
}

func (e *ParamError) Error() string { return strings.Join(e.Msgs, "\n") }

// ResolveParams combines defaults, values from a params file (typed) and
// --param values (strings, which win) into the values nodes see. It reports
// unknown names with suggestions, bad values and missing required params.
func ResolveParams(w *Workflow, file map[string]any, flags map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(w.Params))
	var msgs []string
	names := make([]string, len(w.Params))
	for i, p := range w.Params {
		names[i] = p.Name
	}
	set := func(name string, v any, from string) {
		p := w.Param(name)
		if p == nil {
			msgs = append(msgs, fmt.Sprintf("unknown param %q%s; declared params: %s", name, DidYouMean(name, names), listOrNone(names)))
			return
		}
		cv, err := ConvertParam(p, v)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("param %q (%s): %v", name, from, err))
			return
		}
		out[name] = cv
	}
	for _, p := range w.Params {
		if p.HasDefault {
			out[p.Name] = p.Default
		}
	}
	for _, k := range sortedKeys(file) {
		set(k, file[k], "--params file")
	}
	for _, k := range sortedKeys(flags) {
		set(k, flags[k], "--param")
	}
	for _, p := range w.Params {
		if _, ok := out[p.Name]; !ok && p.Required {
			msgs = append(msgs, fmt.Sprintf("missing required param %q: set it with --param %s=VALUE", p.Name, p.Name))
		}
	}
	if len(msgs) > 0 {
		return nil, &ParamError{Msgs: msgs}
	}
	return out, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
