package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// LabelData is what a Options.Label template sees for each node. Run fields
// are zero when the node has no run overlay (HasRun is false).
type LabelData struct {
	Name    string
	Kind    string
	Command string
	Join    string
	// OutputNames are the node's declared outputs.
	OutputNames []string

	HasRun      bool
	Status      string
	Duration    time.Duration
	Seconds     float64 // Duration in seconds
	MemoryBytes int64   // peak memory, 0 = unknown
	MemoryMB    float64 // MemoryBytes / 2^20
	Cache       string  // hit|miss|stored|""
	ExitCode    string  // decimal exit code, "" = unknown
	// Output is the first output preview (by declared output order, then
	// by name); Outputs holds all previews by output name.
	Output  string
	Outputs map[string]string
	Error   string
}

var labelFuncs = template.FuncMap{
	// dur formats a duration as seconds with two decimals: "1.23s".
	"dur": fmtDuration,
	// mb formats a byte count as MiB with one decimal: "12.3MB".
	"mb": fmtMB,
	// trunc shortens s to at most n runes, ending in "…".
	"trunc": truncate,
	// join joins strings with a separator.
	"join": strings.Join,
	// upper/lower change case.
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
}

// fmtDuration keeps three significant figures at every scale: in-process
// nodes take microseconds, and "0.00s" on all of them says nothing.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 3, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

func fmtMB(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + "MB"
}

func truncate(n int, s string) string {
	r := []rune(s)
	if n <= 0 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ParseLabel checks a label template; it returns the error Render would.
func ParseLabel(text string) error {
	_, err := parseLabel(text)
	return err
}

func parseLabel(text string) (*template.Template, error) {
	t, err := template.New("label").Funcs(labelFuncs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("render: bad label template: %w", err)
	}
	return t, nil
}

// NewLabelData returns the template data for a node.
func NewLabelData(n *Node) LabelData {
	d := LabelData{Name: n.Name, Kind: n.Kind, Command: n.Command, Join: n.Join, OutputNames: n.Outputs}
	if r := n.Run; r != nil {
		d.HasRun = true
		d.Status = r.Status
		d.Duration = r.Duration
		d.Seconds = r.Duration.Seconds()
		d.MemoryBytes = r.PeakMemBytes
		d.MemoryMB = float64(r.PeakMemBytes) / (1 << 20)
		d.Cache = r.Cache
		if r.ExitCode != nil {
			d.ExitCode = strconv.Itoa(*r.ExitCode)
		}
		d.Outputs = r.Outputs
		d.Error = r.Error
		d.Output = firstOutput(n)
	}
	return d
}

func firstOutput(n *Node) string {
	if n.Run == nil || len(n.Run.Outputs) == 0 {
		return ""
	}
	for _, o := range n.Outputs {
		if v, ok := n.Run.Outputs[o]; ok {
			return v
		}
	}
	keys := sortedKeys(n.Run.Outputs)
	return n.Run.Outputs[keys[0]]
}

// defaultLabel is the name, then with a run overlay the status, duration
// (when > 0), peak memory (when known) and a non-zero exit code, one per line.
func defaultLabel(n *Node) string {
	lines := []string{n.Name}
	if r := n.Run; r != nil {
		if r.Status != "" {
			lines = append(lines, r.Status)
		}
		if r.Duration > 0 {
			lines = append(lines, fmtDuration(r.Duration))
		}
		if r.PeakMemBytes > 0 {
			lines = append(lines, fmtMB(r.PeakMemBytes))
		}
		if r.ExitCode != nil && *r.ExitCode != 0 {
			lines = append(lines, "exit "+strconv.Itoa(*r.ExitCode))
		}
	}
	return strings.Join(lines, "\n")
}

func nodeLabels(g *Graph, text string) ([]string, error) {
	labels := make([]string, len(g.Nodes))
	if text == "" {
		for i := range g.Nodes {
			labels[i] = defaultLabel(&g.Nodes[i])
		}
		return labels, nil
	}
	t, err := parseLabel(text)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for i := range g.Nodes {
		b.Reset()
		if err := t.Execute(&b, NewLabelData(&g.Nodes[i])); err != nil {
			return nil, fmt.Errorf("render: label for node %q: %w", g.Nodes[i].Name, err)
		}
		s := strings.ReplaceAll(b.String(), "\r\n", "\n")
		labels[i] = strings.Trim(s, "\n")
	}
	return labels, nil
}

// singleLine joins a multi-line label for one-line formats (the tree).
func singleLine(s string) string {
	parts := strings.Split(s, "\n")
	parts = slices.DeleteFunc(parts, func(p string) bool { return strings.TrimSpace(p) == "" })
	return strings.Join(parts, " · ")
}
