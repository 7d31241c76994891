package graphviz

import (
	"bytes"
	"fmt"
	"image/png"
	"math"

	"github.com/fogleman/gg"
	"github.com/golang/freetype/truetype"
	"golang.org/x/image/font"
)

// maxPixels bounds the PNG size; larger drawings are scaled down to fit.
const maxPixels = 40_000_000

type pngPainter struct {
	dc        *gg.Context
	d         *drawing
	scale     float64
	faces     map[faceKey]font.Face
	lastFace  faceKey
	faceError error
}

type faceKey struct {
	name string
	size float64
}

func (d *drawing) png() ([]byte, error) {
	wpt, hpt := d.size()
	scale := d.dpi / 72
	if px := wpt * hpt * scale * scale; px > maxPixels {
		scale *= math.Sqrt(maxPixels / px)
	}
	w, h := int(math.Ceil(wpt*scale)), int(math.Ceil(hpt*scale))
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("graphviz: empty drawing")
	}
	p := &pngPainter{dc: gg.NewContext(w, h), d: d, scale: scale, faces: map[faceKey]font.Face{}}
	p.dc.SetLineCapRound()
	p.dc.SetLineJoinRound()
	d.paint(p)
	if p.faceError != nil {
		return nil, p.faceError
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, p.dc.Image()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (p *pngPainter) xy(x, y float64) (float64, float64) {
	return (x - p.d.llx + p.d.pad) * p.scale, (p.d.ury - y + p.d.pad) * p.scale
}

func (p *pngPainter) finish(st *state, fill, stroke bool) {
	dc := p.dc
	if fill && visible(st.fill) {
		dc.SetColor(st.fill)
		if stroke {
			dc.FillPreserve()
		} else {
			dc.Fill()
		}
	}
	if stroke && visible(st.pen) {
		dc.SetColor(st.pen)
		dc.SetLineWidth(math.Max(st.lineWidth*p.scale, 1))
		if st.dash != nil {
			ds := make([]float64, len(st.dash))
			for i, v := range st.dash {
				ds[i] = v * p.scale * math.Max(st.lineWidth, 1)
			}
			dc.SetDash(ds...)
		} else {
			dc.SetDash()
		}
		dc.Stroke()
	}
	dc.ClearPath()
}

func (p *pngPainter) path(pts [][2]float64, bezier, closed bool, st *state, fill, stroke bool) {
	p.dc.ClearPath()
	tracePath(p.dc, p.xy, pts, bezier, closed)
	p.finish(st, fill, stroke)
}

func (p *pngPainter) ellipse(cx, cy, rx, ry float64, st *state, fill, stroke bool) {
	x, y := p.xy(cx, cy)
	p.dc.ClearPath()
	p.dc.DrawEllipse(x, y, rx*p.scale, ry*p.scale)
	p.finish(st, fill, stroke)
}

func (p *pngPainter) face(st *state) font.Face {
	name, _ := fontVariant(st.fontFace)
	k := faceKey{name, st.fontSize * p.scale}
	if f, ok := p.faces[k]; ok {
		return f
	}
	tt, err := parsedFont(st.fontFace)
	if err != nil {
		p.faceError = err
		return nil
	}
	f := truetype.NewFace(tt, &truetype.Options{Size: k.size, DPI: 72, Hinting: font.HintingNone})
	p.faces[k] = f
	return f
}

func (p *pngPainter) text(x, y float64, align, s string, st *state) {
	f := p.face(st)
	if f == nil || !visible(st.pen) {
		return
	}
	dc := p.dc
	dc.SetFontFace(f)
	dc.SetColor(st.pen)
	px, py := p.xy(x, y)
	ax := 0.5
	switch align {
	case "l":
		ax = 0
	case "r":
		ax = 1
	}
	dc.DrawStringAnchored(s, px, py, ax, 0)
}
