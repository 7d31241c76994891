package render

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
)

// Environment variables read by the Graphviz client.
const (
	// EnvGraphviz is the path of the fastdag-graphviz helper to use.
	EnvGraphviz = "FASTDAG_GRAPHVIZ"
	// EnvGraphvizCache is the directory the helper keeps its WebAssembly
	// compilation cache in (default: <user cache dir>/fastdag/graphviz-tmp).
	EnvGraphvizCache = "FASTDAG_GRAPHVIZ_CACHE"
)

// HelperName is the helper binary's file name (plus ".exe" on Windows).
const HelperName = "fastdag-graphviz"

const modulePath = "github.com/fastdag/fastdag"

func helperFile() string {
	if runtime.GOOS == "windows" {
		return HelperName + ".exe"
	}
	return HelperName
}

// embeddedHelper is set by embedded_graphviz.go (build tag embedgraphviz).
var embeddedHelper []byte

// SVG renders the graph to SVG with Graphviz (engine Options.Engine).
func SVG(ctx context.Context, w io.Writer, g *Graph, opts Options) error {
	return renderGraphviz(ctx, w, g, "svg", opts)
}

// PNG renders the graph to PNG with Graphviz.
func PNG(ctx context.Context, w io.Writer, g *Graph, opts Options) error {
	return renderGraphviz(ctx, w, g, "png", opts)
}

// PDF renders the graph to a one-page PDF with Graphviz.
func PDF(ctx context.Context, w io.Writer, g *Graph, opts Options) error {
	return renderGraphviz(ctx, w, g, "pdf", opts)
}

func renderGraphviz(ctx context.Context, w io.Writer, g *Graph, format string, opts Options) error {
	dot, err := DOTBytes(g, opts)
	if err != nil {
		return err
	}
	return Graphviz(ctx, w, dot, format, opts.Engine)
}

// Graphviz lays out DOT source with engine ("" = dot) and writes format (svg,
// png or pdf) to w, by running the fastdag-graphviz helper process (see
// FindGraphvizHelper). Format and engine are validated first; errors list
// the valid values. Nothing is written to w on error.
func Graphviz(ctx context.Context, w io.Writer, dot []byte, format, engine string) error {
	if err := oneOf("graphviz format", format, GraphvizFormats()); err != nil {
		return err
	}
	if engine == "" {
		engine = "dot"
	}
	if err := ValidateEngine(engine); err != nil {
		return err
	}
	helper, err := FindGraphvizHelper(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, helper, "-format", format, "-engine", engine)
	cmd.Stdin = bytes.NewReader(dot)
	var out, stderr bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &stderr
	cmd.Env = helperEnv()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("graphviz (%s): %s", helper, msg)
	}
	_, err = w.Write(out.Bytes())
	return err
}

// helperEnv points the helper's TMPDIR at a stable directory: go-graphviz
// keeps its WebAssembly compilation cache in $TMPDIR/go-graphviz and fills it
// in a package init, so a fresh TMPDIR (as testscript gives every script)
// would cost every render the full ~1 s compile.
func helperEnv() []string {
	env := os.Environ()
	dir := GraphvizCacheDir()
	if dir == "" {
		return env
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return env
	}
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "TMPDIR=") })
	return append(env, "TMPDIR="+dir)
}

// GraphvizCacheDir is the directory used as the helper's TMPDIR:
// $FASTDAG_GRAPHVIZ_CACHE, else <user cache dir>/fastdag/graphviz-tmp, else
// "" (the helper keeps the inherited TMPDIR).
func GraphvizCacheDir() string {
	if d := os.Getenv(EnvGraphvizCache); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "fastdag", "graphviz-tmp")
	}
	return ""
}

// ErrNoGraphvizHelper is wrapped by FindGraphvizHelper's error when no helper
// can be found.
var ErrNoGraphvizHelper = errors.New("graphviz helper " + HelperName + " not found")

// FindGraphvizHelper returns the path of the fastdag-graphviz helper, looked
// up in this order:
//
//  1. $FASTDAG_GRAPHVIZ (an error if set but not executable);
//  2. the copy embedded in this binary (build tag embedgraphviz), extracted
//     once to <user cache dir>/fastdag/fastdag-graphviz-<sha256 prefix>;
//  3. fastdag-graphviz next to os.Executable();
//  4. fastdag-graphviz on $PATH;
//  5. development fallback: if this binary's main module is
//     github.com/fastdag/fastdag, `go` is on $PATH and a directory above the
//     working directory holds that module's go.mod, `go build` it into the
//     user cache dir.
func FindGraphvizHelper(ctx context.Context) (string, error) {
	if p := os.Getenv(EnvGraphviz); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("$%s: %w", EnvGraphviz, err)
		}
		return p, nil
	}
	if len(embeddedHelper) > 0 {
		p, err := extractEmbedded()
		if err == nil {
			return p, nil
		}
		// fall through: a read-only cache dir should not break a helper installed elsewhere
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		p := filepath.Join(filepath.Dir(exe), helperFile())
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(helperFile()); err == nil {
		return p, nil
	}
	if p, err := devBuild(ctx); err == nil && p != "" {
		return p, nil
	} else if err != nil {
		return "", fmt.Errorf("%w; building it from source failed: %v", ErrNoGraphvizHelper, err)
	}
	return "", fmt.Errorf("%w: svg, png and pdf need it; install it next to the fastdag binary or on $PATH "+
		"(go install %s/cmd/%s@latest), or set $%s to its path (release builds embed it)",
		ErrNoGraphvizHelper, modulePath, HelperName, EnvGraphviz)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", p)
	}
	if runtime.GOOS != "windows" && fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", p)
	}
	return nil
}

var (
	extractOnce sync.Once
	extractPath string
	extractErr  error
)

// extractEmbedded writes the embedded helper to the user cache dir under a
// content-hash name, once (atomic rename; an existing file is reused).
func extractEmbedded() (string, error) {
	extractOnce.Do(func() {
		sum := sha256.Sum256(embeddedHelper)
		dir, err := os.UserCacheDir()
		if err != nil {
			extractErr = err
			return
		}
		dir = filepath.Join(dir, "fastdag")
		name := HelperName + "-" + hex.EncodeToString(sum[:8])
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Size() == int64(len(embeddedHelper)) {
			extractPath = p
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			extractErr = err
			return
		}
		f, err := os.CreateTemp(dir, name+".tmp*")
		if err != nil {
			extractErr = err
			return
		}
		_, werr := f.Write(embeddedHelper)
		cerr := f.Close()
		if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o755)); err != nil {
			os.Remove(f.Name())
			extractErr = err
			return
		}
		if err := os.Rename(f.Name(), p); err != nil {
			os.Remove(f.Name())
			extractErr = err
			return
		}
		extractPath = p
	})
	return extractPath, extractErr
}

var devMu sync.Mutex

// devBuild builds the helper from the module source when this binary was
// built from github.com/fastdag/fastdag (go run, go build, go test). It
// returns "", nil when that does not apply.
func devBuild(ctx context.Context) (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Path != modulePath {
		return "", nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", nil
	}
	modDir := findModuleDir()
	if modDir == "" {
		return "", nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", nil
	}
	h := sha256.New()
	io.WriteString(h, bi.String())
	io.WriteString(h, modDir)
	out := filepath.Join(cache, "fastdag", HelperName+"-dev-"+hex.EncodeToString(h.Sum(nil)[:8]))
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	modified := true // unknown VCS state: let `go build` decide (it skips an up-to-date target)
	for _, s := range bi.Settings {
		if s.Key == "vcs.modified" && s.Value == "false" {
			modified = false
		}
	}
	devMu.Lock()
	defer devMu.Unlock()
	if !modified && checkExecutable(out) == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/"+HelperName)
	cmd.Dir = modDir
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s in %s: %v: %s", HelperName, modDir, err, bytes.TrimSpace(b))
	}
	return out, nil
}

// findModuleDir walks up from the working directory to the go.mod of
// github.com/fastdag/fastdag.
func findModuleDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				if rest, ok := strings.CutPrefix(line, "module"); ok {
					if strings.Trim(strings.TrimSpace(rest), `"`) == modulePath {
						f.Close()
						return dir
					}
					break
				}
			}
			f.Close()
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
