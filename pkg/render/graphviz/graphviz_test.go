package graphviz

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/fastdag/fastdag/pkg/render"
)

// testDOT is pkg/render's DOT for a chain a -> b -> c with labels that need
// escaping in SVG/PDF: a succeeded (filled green), c did not run (dashed).
func testDOT(engine string) []byte {
	g := &render.Graph{Name: "t", Nodes: []render.Node{
		{Name: "a", Kind: "shell", Command: "fetch", Run: &render.NodeRun{Status: render.StatusSuccess}},
		{Name: "b", Kind: "expr", Command: `parse <x> & "y" \d`},
		{Name: "c", Kind: "exec", Command: "upload é", Run: &render.NodeRun{Status: render.StatusNotRun}},
	}, Edges: []render.Edge{{From: "a", To: "b", FromOutput: "body"}, {From: "b", To: "c"}}}
	dot, err := render.DOTBytes(g, render.Options{Engine: engine, Label: "{{.Command}}"})
	if err != nil {
		panic(err)
	}
	return dot
}

var wantLabels = []string{"fetch", `parse <x> & "y" \d`, "upload é"}

func renderT(t *testing.T, format, engine string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(context.Background(), &b, testDOT(engine), format, engine); err != nil {
		t.Fatalf("%s/%s: %v", format, engine, err)
	}
	return b.Bytes()
}

func TestListsMatchRender(t *testing.T) {
	if !slices.Equal(Formats, render.GraphvizFormats()) || !slices.Equal(Engines, render.Engines()) {
		t.Errorf("graphviz lists %v %v differ from pkg/render's %v %v", Formats, Engines, render.GraphvizFormats(), render.Engines())
	}
}

func TestSVG(t *testing.T) {
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) {
			svg := renderT(t, "svg", engine)
			dec := xml.NewDecoder(bytes.NewReader(svg))
			var texts []string
			var stack []string // classes of enclosing <g>
			edgePaths := 0
			inText := false
			var cur strings.Builder
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("SVG is not XML: %v", err)
				}
				switch el := tok.(type) {
				case xml.StartElement:
					switch el.Name.Local {
					case "g":
						cls := ""
						for _, a := range el.Attr {
							if a.Name.Local == "class" {
								cls = a.Value
							}
						}
						stack = append(stack, cls)
					case "text":
						inText = true
						cur.Reset()
					case "path":
						if slices.Contains(stack, "edge") {
							edgePaths++
						}
					}
				case xml.EndElement:
					switch el.Name.Local {
					case "g":
						stack = stack[:len(stack)-1]
					case "text":
						inText = false
						texts = append(texts, cur.String())
					}
				case xml.CharData:
					if inText {
						cur.Write(el)
					}
				}
			}
			for _, l := range wantLabels {
				if !slices.Contains(texts, l) {
					t.Errorf("no <text> %q in %q", l, texts)
				}
			}
			if edgePaths < 2 {
				t.Errorf("%d edge <path>s, want 2", edgePaths)
			}
		})
	}
}

// layoutNodes returns node centres and sizes (points, y up) and the bounding box.
type lnode struct{ x, y, w, h float64 }

func layoutNodes(t *testing.T, engine string) (map[string]lnode, *drawing) {
	t.Helper()
	js, err := layout(context.Background(), testDOT(engine), engine, "json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDrawing(js)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Objects []struct{ Name, Pos, Width, Height string } `json:"objects"`
	}
	if err := json.Unmarshal(js, &g); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]lnode{}
	for _, o := range g.Objects {
		xs, ys, _ := strings.Cut(o.Pos, ",")
		x, _ := strconv.ParseFloat(xs, 64)
		y, _ := strconv.ParseFloat(ys, 64)
		w, _ := strconv.ParseFloat(o.Width, 64)
		h, _ := strconv.ParseFloat(o.Height, 64)
		nodes[o.Name] = lnode{x, y, w * 72, h * 72}
	}
	return nodes, d
}

func dark(img image.Image, x, y, r int) bool {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			c := img.At(x+dx, y+dy)
			cr, cg, cb, ca := c.RGBA()
			if ca > 0x8000 && (cr+cg+cb)/3 < 0xd000 {
				return true
			}
		}
	}
	return false
}

func TestPNG(t *testing.T) {
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) {
			data := renderT(t, "png", engine)
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			nodes, d := layoutNodes(t, engine)
			scale := d.dpi / 72
			wpt, hpt := d.size()
			if b := img.Bounds(); b.Dx() != int(math.Ceil(wpt*scale)) || b.Dy() != int(math.Ceil(hpt*scale)) {
				t.Errorf("image is %v, layout says %.0fx%.0f", b, wpt*scale, hpt*scale)
			}
			px := func(x, y float64) (int, int) {
				return int(math.Round((x - d.llx + d.pad) * scale)), int(math.Round((d.ury - y + d.pad) * scale))
			}
			inside := func(n lnode, x, y float64) bool {
				return math.Abs(x-n.x) < n.w/2+2 && math.Abs(y-n.y) < n.h/2+2
			}
			// Edges: dark pixels along the segment between connected nodes, outside both boxes.
			for _, e := range [][2]string{{"a", "b"}, {"b", "c"}} {
				n1, n2 := nodes[e[0]], nodes[e[1]]
				samples, hits := 0, 0
				for i := 1; i < 200; i++ {
					f := float64(i) / 200
					x, y := n1.x+(n2.x-n1.x)*f, n1.y+(n2.y-n1.y)*f
					if inside(n1, x, y) || inside(n2, x, y) {
						continue
					}
					samples++
					ix, iy := px(x, y)
					if dark(img, ix, iy, 2) {
						hits++
					}
				}
				if samples < 5 || hits < samples*7/10 {
					t.Errorf("edge %s->%s: %d of %d samples between the nodes have edge pixels", e[0], e[1], hits, samples)
				}
			}
			// Node outlines: dark pixels at the middle of each side of each box.
			for name, n := range nodes {
				for _, p := range [][2]float64{{n.x, n.y + n.h/2}, {n.x, n.y - n.h/2}, {n.x - n.w/2, n.y}, {n.x + n.w/2, n.y}} {
					x, y := px(p[0], p[1])
					if !dark(img, x, y, 2) {
						t.Errorf("node %s: no outline pixel at (%d,%d)", name, x, y)
					}
				}
				// Fill colour of node a (#d4edda) just inside its top-left corner region.
				if name == "a" {
					x, y := px(n.x-n.w/2+4, n.y)
					r, g, b, _ := img.At(x, y).RGBA()
					if r>>8 != 0xd4 || g>>8 != 0xed || b>>8 != 0xda {
						t.Errorf("node a fill at (%d,%d) = %02x%02x%02x, want d4edda", x, y, r>>8, g>>8, b>>8)
					}
				}
			}
			// Text: some dark pixels near the centre of node a (its label).
			a := nodes["a"]
			cx, cy := px(a.x, a.y)
			if !dark(img, cx, cy, 6) {
				t.Errorf("no label pixels at node a's centre")
			}
		})
	}
}

func pdfStreams(t *testing.T, pdf []byte) [][]byte {
	t.Helper()
	re := regexp.MustCompile(`(?s)<<([^>]*(?:>>[^>]*)*?)>>\s*stream\r?\n`)
	var out [][]byte
	for _, m := range re.FindAllSubmatchIndex(pdf, -1) {
		dict := pdf[m[2]:m[3]]
		start := m[1]
		end := bytes.Index(pdf[start:], []byte("endstream"))
		if end < 0 {
			t.Fatal("unterminated stream")
		}
		body := pdf[start : start+end]
		if bytes.Contains(dict, []byte("/FlateDecode")) {
			r, err := zlib.NewReader(bytes.NewReader(body))
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(r)
			body = b
		}
		out = append(out, body)
	}
	return out
}

// pdfText encodes s the way fpdf writes UTF-8 text: UTF-16BE in a literal
// string with \ ( ) escaped.
func pdfText(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		for _, c := range []byte{byte(u >> 8), byte(u)} {
			if c == '\\' || c == '(' || c == ')' {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
	}
	return b
}

func TestPDF(t *testing.T) {
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) {
			pdf := renderT(t, "pdf", engine)
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
				t.Fatalf("no %%PDF- header: %q", pdf[:min(20, len(pdf))])
			}
			if !bytes.Contains(pdf, []byte("/Type /Page\n")) && !regexp.MustCompile(`/Type\s*/Page[^s]`).Match(pdf) {
				t.Error("no page object")
			}
			if !bytes.Contains(pdf, []byte("%%EOF")) {
				t.Error("no EOF trailer")
			}
			var content []byte
			for _, s := range pdfStreams(t, pdf) {
				if bytes.Contains(s, []byte(" Tj")) {
					content = append(content, s...)
				}
			}
			if content == nil {
				t.Fatal("no content stream with text")
			}
			for _, l := range wantLabels {
				if !bytes.Contains(content, pdfText(l)) {
					t.Errorf("label %q not in the content stream", l)
				}
			}
			// paths: curves (c), fills and strokes
			for _, op := range []string{" c\n", " l\n", "S\n"} {
				if !bytes.Contains(content, []byte(op)) {
					t.Errorf("content stream has no %q operator", op)
				}
			}
		})
	}
}

func TestByteStable(t *testing.T) {
	for _, f := range Formats {
		if a, b := renderT(t, f, "dot"), renderT(t, f, "dot"); !bytes.Equal(a, b) {
			t.Errorf("%s output differs between two renders", f)
		}
	}
}

func TestErrors(t *testing.T) {
	var b bytes.Buffer
	err := Render(context.Background(), &b, testDOT("dot"), "gif", "dot")
	if err == nil || !strings.Contains(err.Error(), "svg, png, pdf") {
		t.Errorf("bad format: %v", err)
	}
	err = Render(context.Background(), &b, testDOT("dot"), "svg", "osage")
	if err == nil || !strings.Contains(err.Error(), "dot, neato, fdp, sfdp, twopi, circo") {
		t.Errorf("bad engine: %v", err)
	}
	err = Render(context.Background(), &b, []byte("digraph { a -> "), "svg", "dot")
	if err == nil {
		t.Error("bad DOT accepted")
	}
	if b.Len() != 0 {
		t.Errorf("output written on error: %q", b.String())
	}
}

func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var b bytes.Buffer
			errs <- Render(context.Background(), &b, testDOT(Engines[i%len(Engines)]), Formats[i%3], Engines[i%len(Engines)])
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestParseColor(t *testing.T) {
	for in, want := range map[string][4]uint8{"#ff0000": {255, 0, 0, 255}, "#00ff0080": {0, 255, 0, 128}, "black": {0, 0, 0, 255}, "bogus": {0, 0, 0, 255}} {
		c := parseColor(in, nil)
		if [4]uint8{c.R, c.G, c.B, c.A} != want {
			t.Errorf("parseColor(%q) = %v", in, c)
		}
	}
}
