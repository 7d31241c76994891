package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fastdag/fastdag/pkg/dag"
)

// progress prints one line per node start and finish to stderr. Lines are
// plain text for logs; on a terminal the status word is coloured.
type progress struct {
	w     io.Writer
	color bool
	quiet bool
	width int
}

func newProgress(w io.Writer, color, quiet bool) *progress {
	return &progress{w: w, color: color, quiet: quiet}
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiGrey   = "\x1b[90m"
)

func (p *progress) paint(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + ansiReset
}

// event is the dag.RunOptions.Progress callback; calls are serialized.
func (p *progress) event(ev dag.Event) {
	if ev.Kind == dag.NodeStarted {
		if !p.quiet {
			fmt.Fprintf(p.w, "%s %s\n", p.paint(ansiGrey, "start  "), ev.Node)
		}
		return
	}
	r := ev.Record
	var word, code, detail string
	switch r.Status {
	case dag.StatusSuccess:
		word, code = "ok     ", ansiGreen
		detail = duration(r.DurationMS)
	case dag.StatusCached:
		word, code = "cached ", ansiBlue
		detail = duration(r.DurationMS)
	case dag.StatusFailed:
		word, code = "FAIL   ", ansiRed
		detail = duration(r.DurationMS)
	case dag.StatusCancelled:
		word, code = "cancel ", ansiYellow
		detail = duration(r.DurationMS)
	case dag.StatusSkipped:
		word, code = "skip   ", ansiGrey
		detail = r.Reason
	default:
		word, code = "not run", ansiGrey
		detail = r.Reason
	}
	if r.Cache != "" && r.Status != dag.StatusCached {
		detail += " (cache " + r.Cache + ")"
	}
	if p.quiet && r.Status != dag.StatusFailed {
		return
	}
	if r.Status.OK() {
		if pv := preview(r.Value); pv != "" {
			detail += "  " + p.paint(ansiGrey, "→ "+pv)
		}
	}
	fmt.Fprintf(p.w, "%s %s  %s\n", p.paint(code, word), ev.Node, detail)
	if r.Error != "" && r.Status == dag.StatusFailed {
		fmt.Fprintf(p.w, "        %s\n", strings.ReplaceAll(r.Error, "\n", "\n        "))
	}
}

// summary prints the run's last line: status, counts and time.
func (p *progress) summary(wf *dag.Workflow, rec *dag.Record) {
	const reused = dag.Status("reused") // by a partial run, from an earlier one
	counts := map[dag.Status]int{}
	for name, n := range rec.Nodes {
		if rec.Partial != nil && rec.Partial.Reused[name] != "" {
			counts[reused]++
			continue
		}
		counts[n.Status]++
	}
	var parts []string
	for _, c := range []struct {
		st   dag.Status
		word string
	}{{dag.StatusSuccess, "succeeded"}, {dag.StatusCached, "cached"}, {reused, "reused"}, {dag.StatusFailed, "failed"},
		{dag.StatusCancelled, "cancelled"}, {dag.StatusSkipped, "skipped"}, {dag.StatusNotRun, "not run"}} {
		if n := counts[c.st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.word))
		}
	}
	name := wf.Name
	if name == "" {
		name = wf.File
	}
	status := string(rec.Status)
	code := ansiGreen
	if rec.Status != dag.StatusSuccess {
		code = ansiRed
	}
	line := fmt.Sprintf("fastdag: %s %s: %s in %s (run %s)", name, p.paint(code, status), strings.Join(parts, ", "), duration(rec.DurationMS), rec.ID)
	// The counts already say how many nodes failed; add only other causes.
	if rec.Status == dag.StatusInterrupted || strings.HasPrefix(rec.Error, "run timed out") {
		line += ": " + rec.Error
	}
	fmt.Fprintln(p.w, line)
}

func duration(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// preview is the first line of a node's default output, cut short, so the
// progress line shows what a node made without flooding a log.
func preview(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		s = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		s = string(b)
	}
	line, _, more := strings.Cut(s, "\n")
	if r := []rune(line); len(r) > 60 {
		line, more = string(r[:57]), true
	}
	if more {
		line += "…"
	}
	return line
}
