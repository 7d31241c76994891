package graphviz

import (
	"strings"
	"sync"

	"github.com/golang/freetype/truetype"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// fontVariant maps a Graphviz font face name ("Times-Roman", "Helvetica-Bold",
// "Courier", ...) to one of the bundled Go fonts.
func fontVariant(face string) (name string, ttf []byte) {
	f := strings.ToLower(face)
	bold := strings.Contains(f, "bold")
	italic := strings.Contains(f, "italic") || strings.Contains(f, "oblique")
	switch {
	case strings.Contains(f, "courier") || strings.Contains(f, "mono"):
		return "gomono", gomono.TTF
	case bold && italic:
		return "gobolditalic", gobolditalic.TTF
	case bold:
		return "gobold", gobold.TTF
	case italic:
		return "goitalic", goitalic.TTF
	}
	return "goregular", goregular.TTF
}

var (
	ttfMu    sync.Mutex
	ttfCache = map[string]*truetype.Font{}
)

func parsedFont(face string) (*truetype.Font, error) {
	name, data := fontVariant(face)
	ttfMu.Lock()
	defer ttfMu.Unlock()
	if f, ok := ttfCache[name]; ok {
		return f, nil
	}
	f, err := truetype.Parse(data)
	if err != nil {
		return nil, err
	}
	ttfCache[name] = f
	return f, nil
}
