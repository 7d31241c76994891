package render

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// helperBin is the fastdag-graphviz helper built once by TestMain ("" if go
// is unavailable).
var helperBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fastdag-render-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if goBin, err := exec.LookPath("go"); err == nil {
		bin := filepath.Join(dir, helperFile())
		cmd := exec.Command(goBin, "build", "-o", bin, "github.com/fastdag/fastdag/cmd/fastdag-graphviz")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the helper: %v\n%s", err, out)
			return 1
		}
		helperBin = bin
	}
	return m.Run()
}

func needHelper(t *testing.T) {
	t.Helper()
	if helperBin == "" {
		t.Skip("go not on PATH: helper not built")
	}
	t.Setenv(EnvGraphviz, helperBin)
	// a per-test cache dir would make every render pay the WASM compile;
	// share one across the test binary's run instead.
	t.Setenv(EnvGraphvizCache, filepath.Join(os.TempDir(), "fastdag-render-test-gvcache"))
}

func TestGraphvizFormats(t *testing.T) {
	needHelper(t)
	ctx := context.Background()
	for _, engine := range Engines() {
		var svg, pngb, pdf bytes.Buffer
		opts := Options{Engine: engine}
		if err := SVG(ctx, &svg, fixtureBranch(), opts); err != nil {
			t.Fatalf("%s: svg: %v", engine, err)
		}
		if err := xml.Unmarshal(svg.Bytes(), new(struct{ XMLName xml.Name })); err != nil {
			t.Errorf("%s: svg is not XML: %v", engine, err)
		}
		texts := svgTexts(t, svg.Bytes())
		for _, name := range []string{"deploy.prod", "deploy-dev", "check", "pick", "true", "false"} {
			if !texts[name] {
				t.Errorf("%s: svg has no <text> %q", engine, name)
			}
		}
		if err := PNG(ctx, &pngb, fixtureBranch(), opts); err != nil {
			t.Fatalf("%s: png: %v", engine, err)
		}
		if _, err := png.Decode(&pngb); err != nil {
			t.Errorf("%s: png: %v", engine, err)
		}
		if err := PDF(ctx, &pdf, fixtureBranch(), opts); err != nil {
			t.Fatalf("%s: pdf: %v", engine, err)
		}
		if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) || !bytes.Contains(pdf.Bytes(), []byte("/Type /Page")) {
			t.Errorf("%s: not a PDF with a page", engine)
		}
	}
	// Render dispatches svg/png/pdf to the helper too, escaping survives.
	var b bytes.Buffer
	if err := Render(ctx, &b, fixtureEscape(), "svg", Options{Direction: "LR"}); err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, b.Bytes())
	for _, want := range []string{`say "hi"`, `x<y>&z #1`, `naïve ☃ 日本`, `back\slash|pipe`, "multi", "line", `o"ut`} {
		if !texts[want] {
			t.Errorf("svg lacks <text> %s", want)
		}
	}
	// the shared compilation cache was used
	if _, err := os.Stat(filepath.Join(os.Getenv(EnvGraphvizCache), "go-graphviz")); err != nil {
		t.Errorf("helper did not use $%s as TMPDIR: %v", EnvGraphvizCache, err)
	}
}

// svgTexts returns the decoded contents of an SVG's <text> elements.
func svgTexts(t *testing.T, svg []byte) map[string]bool {
	t.Helper()
	texts := map[string]bool{}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	in := false
	var cur strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "text" {
				in = true
				cur.Reset()
			}
		case xml.EndElement:
			if el.Name.Local == "text" {
				in = false
				texts[cur.String()] = true
			}
		case xml.CharData:
			if in {
				cur.Write(el)
			}
		}
	}
	return texts
}

func TestGraphvizErrors(t *testing.T) {
	needHelper(t)
	ctx := context.Background()
	var b bytes.Buffer
	err := Graphviz(ctx, &b, []byte("digraph { a -> "), "svg", "dot")
	if err == nil || !strings.Contains(err.Error(), "graphviz") {
		t.Errorf("bad DOT: %v", err)
	}
	if b.Len() != 0 {
		t.Error("output written on error")
	}
	err = Graphviz(ctx, &b, []byte("digraph{}"), "jpg", "dot")
	if err == nil || !strings.Contains(err.Error(), "svg, png, pdf") {
		t.Errorf("bad format: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Graphviz(cctx, &b, []byte("digraph{a}"), "svg", "dot"); err == nil {
		t.Error("cancelled context: no error")
	}
	t.Setenv(EnvGraphviz, filepath.Join(t.TempDir(), "missing"))
	err = Graphviz(ctx, &b, []byte("digraph{}"), "svg", "dot")
	if err == nil || !strings.Contains(err.Error(), "$"+EnvGraphviz) {
		t.Errorf("missing $%s helper: %v", EnvGraphviz, err)
	}
}

func TestHelperLookup(t *testing.T) {
	if helperBin == "" {
		t.Skip("helper not built")
	}
	ctx := context.Background()
	t.Setenv(EnvGraphviz, "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	// On PATH.
	t.Setenv("PATH", filepath.Dir(helperBin))
	t.Chdir(t.TempDir()) // outside the module: no dev build
	p, err := FindGraphvizHelper(ctx)
	if err != nil || p != helperBin {
		t.Errorf("PATH lookup = %q, %v; want %q", p, err, helperBin)
	}
	// Nowhere: a helpful error.
	t.Setenv("PATH", t.TempDir())
	_, err = FindGraphvizHelper(ctx)
	if err == nil || !strings.Contains(err.Error(), "go install github.com/fastdag/fastdag/cmd/fastdag-graphviz") {
		t.Errorf("no helper: %v", err)
	}
	// Embedded copy: extracted once under a content-hash name, executable.
	old := embeddedHelper
	t.Cleanup(func() { embeddedHelper = old; extractOnce = sync.Once{} })
	data, err := os.ReadFile(helperBin)
	if err != nil {
		t.Fatal(err)
	}
	embeddedHelper = data
	extractOnce = sync.Once{}
	p, err = FindGraphvizHelper(ctx)
	if err != nil || !strings.Contains(p, filepath.Join("fastdag", HelperName+"-")) {
		t.Fatalf("embedded = %q, %v", p, err)
	}
	out, err := exec.Command(p, "-version").Output()
	if err != nil || !strings.HasPrefix(string(out), "fastdag-graphviz") {
		t.Errorf("extracted helper: %q, %v", out, err)
	}
	extractOnce = sync.Once{}
	if p2, _ := FindGraphvizHelper(ctx); p2 != p {
		t.Errorf("second extraction path %q != %q", p2, p)
	}
}

func TestHelperDevBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the helper")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	if bi, ok := debug.ReadBuildInfo(); !ok || bi.Main.Path != modulePath {
		t.Skipf("test binary's main module is not %s", modulePath)
	}
	wd, _ := os.Getwd()
	gocache, err := exec.Command(goBin, "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	// keep the build cache when moving the user cache dir
	t.Setenv("GOCACHE", strings.TrimSpace(string(gocache)))
	t.Setenv(EnvGraphviz, "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if p, err := exec.LookPath(helperFile()); err == nil {
		t.Skipf("%s is on PATH: no dev build", p)
	}
	t.Chdir(filepath.Join(wd, "testdata")) // findModuleDir walks up
	p, err := FindGraphvizHelper(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p, HelperName+"-dev-") {
		t.Errorf("dev build path %q", p)
	}
	var b bytes.Buffer
	t.Setenv(EnvGraphvizCache, filepath.Join(os.TempDir(), "fastdag-render-test-gvcache"))
	if err := Graphviz(context.Background(), &b, []byte("digraph{a->b}"), "svg", "dot"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<svg") {
		t.Error("no svg from the dev-built helper")
	}
}

func TestHelperEnv(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gv")
	t.Setenv(EnvGraphvizCache, dir)
	t.Setenv("TMPDIR", "/elsewhere")
	env := helperEnv()
	n := 0
	for _, kv := range env {
		if strings.HasPrefix(kv, "TMPDIR=") {
			n++
			if kv != "TMPDIR="+dir {
				t.Errorf("helper TMPDIR = %s", kv)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d TMPDIR entries", n)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("cache dir not created: %v", err)
	}
	t.Setenv(EnvGraphvizCache, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d := GraphvizCacheDir(); d != "/xdg/fastdag/graphviz-tmp" {
		t.Errorf("GraphvizCacheDir = %s", d)
	}
}
