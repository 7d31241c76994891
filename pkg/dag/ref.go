package dag

import (
	"fmt"
	"strings"
)

// ParamsNode is the reserved name that references workflow parameters.
const ParamsNode = "params"

// Ref is a reference to a value: a node's default output ("node"), a named
// output ("node.output") or a parameter ("params.name").
type Ref struct {
	Node   string
	Output string // "" means the default output
}

// ParseRef parses a reference. It checks only the shape; whether the node,
// output or parameter exists is the validator's job.
func ParseRef(s string) (Ref, error) {
	node, out, _ := strings.Cut(s, ".")
	if !validName(node) {
		return Ref{}, fmt.Errorf("invalid reference %q: want node, node.output or params.name", s)
	}
	if strings.Contains(s, ".") && !validName(out) {
		return Ref{}, fmt.Errorf("invalid reference %q: want node, node.output or params.name", s)
	}
	if node == ParamsNode && out == "" {
		return Ref{}, fmt.Errorf("invalid reference %q: name a parameter, as in params.NAME", s)
	}
	return Ref{Node: node, Output: out}, nil
}

// IsParam reports whether r names a workflow parameter.
func (r Ref) IsParam() bool { return r.Node == ParamsNode }

func (r Ref) String() string {
	if r.Output == "" {
		return r.Node
	}
	return r.Node + "." + r.Output
}

// validName reports whether s may name a node, output, input or parameter:
// a letter or underscore, then letters, digits, '_' or '-'.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && (c == '-' || '0' <= c && c <= '9'):
		default:
			return false
		}
	}
	return true
}
