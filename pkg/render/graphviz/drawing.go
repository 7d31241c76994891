package graphviz

import (
	"encoding/json"
	"fmt"
	"image/color"
	"strconv"
	"strings"
)

// op is one xdot drawing operation as Graphviz's "json" output spells it.
type op struct {
	Op     string       `json:"op"`
	Color  string       `json:"color"`
	Stops  []stop       `json:"stops"`
	Points [][2]float64 `json:"points"`
	Rect   [4]float64   `json:"rect"`
	Pt     [2]float64   `json:"pt"`
	Align  string       `json:"align"`
	Width  float64      `json:"width"`
	Text   string       `json:"text"`
	Size   float64      `json:"size"`
	Face   string       `json:"face"`
	Style  string       `json:"style"`
}

type stop struct {
	Frac  float64 `json:"frac"`
	Color string  `json:"color"`
}

type object struct {
	Draw   []op `json:"_draw_"`
	LDraw  []op `json:"_ldraw_"`
	HDraw  []op `json:"_hdraw_"`
	TDraw  []op `json:"_tdraw_"`
	HLDraw []op `json:"_hldraw_"`
	TLDraw []op `json:"_tldraw_"`
}

type jsonGraph struct {
	object
	BB      string   `json:"bb"`
	Pad     string   `json:"pad"`
	DPI     string   `json:"dpi"`
	Res     string   `json:"resolution"`
	Objects []object `json:"objects"`
	Edges   []object `json:"edges"`
}

// drawing is a laid-out graph: its bounding box (Graphviz points, y up) and
// the drawing operations in painting order.
type drawing struct {
	llx, lly, urx, ury float64
	pad                float64
	dpi                float64
	ops                []op
}

func parseDrawing(js []byte) (*drawing, error) {
	var g jsonGraph
	if err := json.Unmarshal(js, &g); err != nil {
		return nil, fmt.Errorf("graphviz: decode layout: %w", err)
	}
	d := &drawing{pad: 4, dpi: 96}
	bb := strings.Split(g.BB, ",")
	if len(bb) != 4 {
		return nil, fmt.Errorf("graphviz: layout has no bounding box")
	}
	var v [4]float64
	for i, s := range bb {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("graphviz: bad bounding box %q", g.BB)
		}
		v[i] = f
	}
	d.llx, d.lly, d.urx, d.ury = v[0], v[1], v[2], v[3]
	if f, err := strconv.ParseFloat(g.Pad, 64); err == nil && f >= 0 {
		d.pad = f * 72 // pad is in inches
	}
	for _, s := range []string{g.DPI, g.Res} {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
			d.dpi = f
		}
	}
	add := func(o object) {
		for _, l := range [][]op{o.Draw, o.LDraw, o.HDraw, o.TDraw, o.HLDraw, o.TLDraw} {
			d.ops = append(d.ops, resetOp)
			d.ops = append(d.ops, l...)
		}
	}
	add(g.object)
	for _, o := range g.Objects { // clusters first, then nodes
		add(o)
	}
	for _, o := range g.Edges {
		add(o)
	}
	return d, nil
}

// resetOp restores the default drawing state between attribute lists, as
// each _draw_ list starts from defaults.
var resetOp = op{Op: "reset"}

// painter is a drawing backend. Coordinates are Graphviz points (y up).
type painter interface {
	// path fills and/or strokes a path; segments are a start point followed
	// by cubic Bézier control triples. closed closes the path.
	path(pts [][2]float64, bezier, closed bool, st *state, fill, stroke bool)
	ellipse(cx, cy, rx, ry float64, st *state, fill, stroke bool)
	text(x, y float64, align string, s string, st *state)
}

// state is the current xdot graphics state.
type state struct {
	pen, fill color.NRGBA
	lineWidth float64
	dash      []float64 // in points; nil = solid
	invisible bool
	fontSize  float64
	fontFace  string
}

func defaultState() state {
	return state{pen: color.NRGBA{A: 255}, fill: color.NRGBA{A: 255}, lineWidth: 1, fontSize: 14, fontFace: "Times-Roman"}
}

func (d *drawing) paint(p painter) {
	st := defaultState()
	for _, o := range d.ops {
		switch o.Op {
		case "reset":
			st = defaultState()
		case "c":
			st.pen = parseColor(o.Color, o.Stops)
		case "C":
			st.fill = parseColor(o.Color, o.Stops)
		case "F":
			st.fontSize, st.fontFace = o.Size, o.Face
		case "S":
			applyStyle(&st, o.Style)
		case "E", "e":
			if st.invisible {
				continue
			}
			p.ellipse(o.Rect[0], o.Rect[1], o.Rect[2], o.Rect[3], &st, o.Op == "E", true)
		case "P", "p":
			if st.invisible || len(o.Points) < 2 {
				continue
			}
			p.path(o.Points, false, true, &st, o.Op == "P", true)
		case "L":
			if st.invisible || len(o.Points) < 2 {
				continue
			}
			p.path(o.Points, false, false, &st, false, true)
		case "B", "b":
			if st.invisible || len(o.Points) < 4 {
				continue
			}
			// Graphviz's json renderer swaps the xdot letters: "B" is
			// the filled B-spline there and "b" the unfilled one (the
			// xdot text format says the opposite).
			filled := o.Op == "B"
			p.path(o.Points, true, filled, &st, filled, true)
		case "T":
			if st.invisible || o.Text == "" {
				continue
			}
			// The json renderer doubles backslashes in text (quotes are fine).
			p.text(o.Pt[0], o.Pt[1], o.Align, strings.ReplaceAll(o.Text, `\\`, `\`), &st)
		}
	}
}

func applyStyle(st *state, s string) {
	switch {
	case s == "solid":
		st.dash = nil
	case s == "dashed":
		st.dash = []float64{5, 2}
	case s == "dotted":
		st.dash = []float64{1, 5}
	case s == "bold":
		st.lineWidth = 2
	case s == "invis" || s == "invisible":
		st.invisible = true
	case strings.HasPrefix(s, "setlinewidth("):
		if f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(s, "setlinewidth("), ")"), 64); err == nil {
			st.lineWidth = f
		}
	}
}

// parseColor reads "#rrggbb" or "#rrggbbaa" (Graphviz normalizes colours to
// these in xdot); gradients use their first stop.
func parseColor(s string, stops []stop) color.NRGBA {
	if s == "" && len(stops) > 0 {
		s = stops[0].Color
	}
	s = strings.TrimPrefix(s, "#")
	if len(s) != 6 && len(s) != 8 {
		if c, ok := namedColors[strings.ToLower(s)]; ok {
			return c
		}
		return color.NRGBA{A: 255}
	}
	b, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return color.NRGBA{A: 255}
	}
	if len(s) == 6 {
		return color.NRGBA{uint8(b >> 16), uint8(b >> 8), uint8(b), 255}
	}
	return color.NRGBA{uint8(b >> 24), uint8(b >> 16), uint8(b >> 8), uint8(b)}
}

var namedColors = map[string]color.NRGBA{
	"black": {0, 0, 0, 255}, "white": {255, 255, 255, 255}, "transparent": {255, 255, 254, 0},
	"none": {0, 0, 0, 0}, "red": {255, 0, 0, 255}, "green": {0, 255, 0, 255}, "blue": {0, 0, 255, 255},
	"gray": {192, 192, 192, 255}, "grey": {192, 192, 192, 255},
}

// size returns the drawing's size in points including padding.
func (d *drawing) size() (w, h float64) {
	return d.urx - d.llx + 2*d.pad, d.ury - d.lly + 2*d.pad
}

func visible(c color.NRGBA) bool { return c.A > 0 }

// pathTracer is what both painters draw paths with: gg's context as it
// is, fpdf through pdfPath.
type pathTracer interface {
	MoveTo(x, y float64)
	LineTo(x, y float64)
	CubicTo(x1, y1, x2, y2, x3, y3 float64)
	ClosePath()
}

// tracePath walks an xdot path (a polyline, or a cubic B-spline as
// Graphviz writes it: a start point, then three points per segment).
func tracePath(t pathTracer, xy func(x, y float64) (float64, float64), pts [][2]float64, bezier, closed bool) {
	t.MoveTo(xy(pts[0][0], pts[0][1]))
	if bezier {
		for i := 1; i+2 < len(pts); i += 3 {
			x1, y1 := xy(pts[i][0], pts[i][1])
			x2, y2 := xy(pts[i+1][0], pts[i+1][1])
			x3, y3 := xy(pts[i+2][0], pts[i+2][1])
			t.CubicTo(x1, y1, x2, y2, x3, y3)
		}
	} else {
		for _, pt := range pts[1:] {
			t.LineTo(xy(pt[0], pt[1]))
		}
	}
	if closed {
		t.ClosePath()
	}
}
