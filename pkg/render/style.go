package render

import (
	"maps"
	"slices"
	"strings"
)

// statusColor is a run status' fill, outline and text colour.
type statusColor struct{ fill, stroke, text string }

var statusColors = map[string]statusColor{
	StatusSuccess:   {"#d4edda", "#28a745", "#155724"},
	StatusFailed:    {"#f8d7da", "#dc3545", "#721c24"},
	StatusSkipped:   {"#e2e3e5", "#6c757d", "#383d41"},
	StatusCached:    {"#d0e4f7", "#1f6feb", "#0b3d91"},
	StatusNotRun:    {"#ffffff", "#999999", "#666666"},
	StatusRunning:   {"#fff3cd", "#e0a800", "#856404"},
	StatusCancelled: {"#ffe5d0", "#fd7e14", "#8a4100"},
}

// dotNodeAttrs returns the DOT attributes of node i: shape by kind, then
// status colours, then the workflow's styles (which win).
func (m *model) dotNodeAttrs(i int) map[string]string {
	n := &m.g.Nodes[i]
	a := map[string]string{"label": m.labels[i]}
	var style []string
	switch {
	case n.Kind == KindCondition:
		a["shape"] = "diamond"
	case n.Kind == KindSelect:
		a["shape"] = "hexagon"
	case n.Kind == KindShell || n.Kind == KindExec || n.Kind == "":
		a["shape"] = "box"
	default: // expr, builtin:*, others
		a["shape"] = "box"
		style = append(style, "rounded")
	}
	if n.Command != "" {
		a["tooltip"] = n.Command
	}
	if c, ok := statusColors[statusOf(n)]; ok {
		style = append(style, "filled")
		a["fillcolor"], a["color"], a["fontcolor"] = c.fill, c.stroke, c.text
		if n.Run.Status == StatusNotRun {
			style = append(style, "dashed")
		}
	}
	user := fromCSS(m.g.Styles.Nodes[n.Name])
	if _, ok := user["fillcolor"]; ok && !slices.Contains(style, "filled") {
		style = append(style, "filled")
	}
	if len(style) > 0 {
		a["style"] = strings.Join(style, ",")
	}
	maps.Copy(a, user)
	if s, ok := user["style"]; ok && user["fillcolor"] != "" && !strings.Contains(s, "filled") {
		a["style"] = s + ",filled"
	}
	return a
}

func (m *model) dotEdgeAttrs(e Edge) map[string]string {
	a := map[string]string{}
	if l := edgeLabel(e); l != "" {
		a["label"] = l
	}
	if e.Kind == EdgeOrder {
		a["style"] = "dashed"
	}
	maps.Copy(a, fromCSS(m.g.Styles.Edges[[2]string{e.From, e.To}]))
	return a
}

// fromCSS maps the CSS style names to Graphviz attributes.
func fromCSS(s map[string]string) map[string]string {
	if len(s) == 0 {
		return nil
	}
	out := make(map[string]string, len(s))
	for k, v := range s {
		switch k {
		case "fill":
			out["fillcolor"] = v
		case "stroke":
			out["color"] = v
		case "stroke-width":
			out["penwidth"] = strings.TrimSuffix(v, "px")
		case "stroke-dasharray":
			out["style"] = "dashed"
		default:
			out[k] = v
		}
	}
	return out
}

// toCSS maps a Graphviz-style attribute map to Mermaid CSS properties,
// sorted by property name. Unknown keys are dropped.
func toCSS(s map[string]string) []string {
	css := map[string]string{}
	for k, v := range s {
		switch k {
		case "fillcolor", "fill":
			css["fill"] = v
		case "color", "stroke":
			css["stroke"] = v
		case "fontcolor":
			css["color"] = v
		case "penwidth", "stroke-width":
			css["stroke-width"] = strings.TrimSuffix(v, "px") + "px"
		case "stroke-dasharray":
			css["stroke-dasharray"] = v
		case "style":
			switch {
			case strings.Contains(v, "dashed"):
				css["stroke-dasharray"] = "5 5"
			case strings.Contains(v, "dotted"):
				css["stroke-dasharray"] = "2 2"
			}
			if strings.Contains(v, "bold") {
				css["stroke-width"] = "2px"
			}
		case "font-weight", "font-style", "font-size", "opacity":
			css[k] = v
		}
	}
	out := make([]string, 0, len(css))
	for _, k := range sortedKeys(css) {
		out = append(out, k+":"+mermaidStyleValue(css[k]))
	}
	return out
}

func mermaidStyleValue(v string) string {
	v = strings.Map(func(r rune) rune {
		switch r {
		case ';', '\n', '\r', '\t':
			return ' '
		}
		return r
	}, v)
	return strings.ReplaceAll(strings.TrimSpace(v), ",", "\\,")
}
