package graphviz

import (
	"bytes"
	"fmt"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

type pdfPainter struct {
	pdf   *fpdf.Fpdf
	d     *drawing
	fonts map[string]bool
}

func (d *drawing) pdf() ([]byte, error) {
	w, h := d.size()
	pdf := fpdf.NewCustom(&fpdf.InitType{
		OrientationStr: "P",
		UnitStr:        "pt",
		Size:           fpdf.SizeType{Wd: w, Ht: h},
	})
	// Byte-stable output: fixed dates, sorted catalog.
	epoch := time.Unix(0, 0).UTC()
	pdf.SetCreationDate(epoch)
	pdf.SetModificationDate(epoch)
	pdf.SetCatalogSort(true)
	pdf.SetProducer("fastdag", false)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.AddPage()
	pdf.SetLineCapStyle("round")
	pdf.SetLineJoinStyle("round")
	p := &pdfPainter{pdf: pdf, d: d, fonts: map[string]bool{}}
	d.paint(p)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("graphviz: pdf: %w", err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("graphviz: pdf: %w", err)
	}
	return buf.Bytes(), nil
}

func (p *pdfPainter) xy(x, y float64) (float64, float64) {
	return x - p.d.llx + p.d.pad, p.d.ury - y + p.d.pad
}

// setup sets colours and line style and returns the fpdf style string, or ""
// if nothing is to be drawn.
func (p *pdfPainter) setup(st *state, fill, stroke bool) string {
	pdf := p.pdf
	style := ""
	alpha := 1.0
	if fill && visible(st.fill) {
		pdf.SetFillColor(int(st.fill.R), int(st.fill.G), int(st.fill.B))
		style += "F"
		alpha = float64(st.fill.A) / 255
	}
	if stroke && visible(st.pen) {
		pdf.SetDrawColor(int(st.pen.R), int(st.pen.G), int(st.pen.B))
		pdf.SetLineWidth(st.lineWidth)
		if st.dash != nil {
			ds := make([]float64, len(st.dash))
			for i, v := range st.dash {
				ds[i] = v * max(st.lineWidth, 1)
			}
			pdf.SetDashPattern(ds, 0)
		} else {
			pdf.SetDashPattern(nil, 0)
		}
		style = "D" + style // "D", "DF"
		if style == "DF" {
			style = "FD"
		}
	}
	pdf.SetAlpha(alpha, "Normal")
	return style
}

func (p *pdfPainter) path(pts [][2]float64, bezier, closed bool, st *state, fill, stroke bool) {
	style := p.setup(st, fill, stroke)
	if style == "" {
		return
	}
	tracePath(pdfPath{p.pdf}, p.xy, pts, bezier, closed)
	p.pdf.DrawPath(style)
}

func (p *pdfPainter) ellipse(cx, cy, rx, ry float64, st *state, fill, stroke bool) {
	style := p.setup(st, fill, stroke)
	if style == "" {
		return
	}
	x, y := p.xy(cx, cy)
	p.pdf.Ellipse(x, y, rx, ry, 0, style)
}

func (p *pdfPainter) text(x, y float64, align, s string, st *state) {
	if !visible(st.pen) {
		return
	}
	pdf := p.pdf
	name, ttf := fontVariant(st.fontFace)
	if !p.fonts[name] {
		pdf.AddUTF8FontFromBytes(name, "", ttf)
		p.fonts[name] = true
	}
	pdf.SetFont(name, "", st.fontSize)
	pdf.SetTextColor(int(st.pen.R), int(st.pen.G), int(st.pen.B))
	pdf.SetAlpha(float64(st.pen.A)/255, "Normal")
	px, py := p.xy(x, y)
	w := pdf.GetStringWidth(s)
	switch align {
	case "l":
	case "r":
		px -= w
	default:
		px -= w / 2
	}
	pdf.Text(px, py, s)
}

// pdfPath adapts fpdf's path calls to pathTracer.
type pdfPath struct{ pdf *fpdf.Fpdf }

func (p pdfPath) MoveTo(x, y float64) { p.pdf.MoveTo(x, y) }
func (p pdfPath) LineTo(x, y float64) { p.pdf.LineTo(x, y) }
func (p pdfPath) CubicTo(x1, y1, x2, y2, x3, y3 float64) {
	p.pdf.CurveBezierCubicTo(x1, y1, x2, y2, x3, y3)
}
func (p pdfPath) ClosePath() { p.pdf.ClosePath() }
