package nodes

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fastdag/fastdag/pkg/dag"
)

// builtin compiles one uses: kind.
type builtin func(r *Registry, n *dag.Node) (dag.Action, error)

var builtins = map[string]builtin{
	"expr":      compileExpr,
	"condition": compileCondition,
	"select":    compileSelect,
}

// Builtins lists the names uses: accepts, sorted.
func Builtins() []string {
	names := make([]string, 0, len(builtins))
	for name := range builtins {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Registry compiles nodes. It shares compiled expressions between nodes
// with the same text and inputs, which is what keeps a 100,000-node
// workflow of similar expressions small and quick to load.
type Registry struct {
	exprs *dag.Exprs
	mu    sync.Mutex
	paths map[string]string // program name -> path found on PATH
	// KillGrace is how long a process group gets between SIGTERM and
	// SIGKILL when its node is cancelled or times out.
	KillGrace time.Duration
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{exprs: dag.NewExprs(), paths: map[string]string{}, KillGrace: 5 * time.Second}
}

// Compile is a dag.Compiler.
func (r *Registry) Compile(n *dag.Node) (dag.Action, error) {
	switch n.Kind {
	case dag.KindShell:
		if err := noWith(n); err != nil {
			return nil, err
		}
		if strings.TrimSpace(n.Run) == "" {
			return nil, fmt.Errorf("run: empty command")
		}
		return &process{node: n, argv: []string{"sh", "-c", n.Run}, path: r.lookPath(n, "sh"), grace: r.KillGrace}, nil
	case dag.KindExec:
		if err := noWith(n); err != nil {
			return nil, err
		}
		if len(n.Exec) == 0 || n.Exec[0] == "" {
			return nil, fmt.Errorf("exec: empty program name")
		}
		return &process{node: n, argv: n.Exec, path: r.lookPath(n, n.Exec[0]), grace: r.KillGrace}, nil
	case dag.KindUses:
		b, ok := builtins[n.Uses]
		if !ok {
			return nil, fmt.Errorf("unknown built-in %q%s; known built-ins: %s", n.Uses, dag.DidYouMean(n.Uses, Builtins()), strings.Join(Builtins(), ", "))
		}
		if n.Output != "" {
			return nil, fmt.Errorf("output: only applies to run: and exec: nodes")
		}
		return b(r, n)
	}
	return nil, fmt.Errorf("unknown node kind %q", n.Kind)
}

// lookPath resolves a program name on PATH once per process rather than
// once per run: a search of PATH is a dozen failed stats. Names with a
// slash, and nodes that set their own PATH, resolve when they run.
func (r *Registry) lookPath(n *dag.Node, prog string) string {
	if strings.ContainsRune(prog, '/') {
		return ""
	}
	for _, e := range n.Env {
		if e.Name == "PATH" {
			return ""
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.paths[prog]; ok {
		return p
	}
	p, err := exec.LookPath(prog)
	if err != nil || !filepath.IsAbs(p) {
		p = "" // reported, with the right message, when the node runs
	}
	r.paths[prog] = p
	return p
}

func noWith(n *dag.Node) error {
	if len(n.With) > 0 {
		return fmt.Errorf("with: is for uses: nodes; pass values to commands with inputs: or env:")
	}
	return nil
}

// checkWith reports with: keys a built-in does not take.
func checkWith(n *dag.Node, known ...string) error {
	for k := range n.With {
		found := false
		for _, kk := range known {
			found = found || k == kk
		}
		if !found {
			return fmt.Errorf("uses %s: unknown with: key %q%s; known keys: %s", n.Uses, k, dag.DidYouMean(k, known), strings.Join(known, ", "))
		}
	}
	return nil
}
