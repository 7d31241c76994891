package dag

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RecordFormat versions the run record. Readers check it; a change that
// removes or retypes a field bumps it.
const RecordFormat = "fastdag-run/1"

// Status is a node's or a run's state.
type Status string

const (
	StatusPending     Status = "pending"
	StatusRunning     Status = "running"
	StatusSuccess     Status = "success"
	StatusCached      Status = "cached"  // success, replayed from the cache
	StatusFailed      Status = "failed"  // ran and failed (or timed out)
	StatusSkipped     Status = "skipped" // on a branch not taken
	StatusNotRun      Status = "not_run" // an upstream failed, or the run stopped first
	StatusCancelled   Status = "cancelled"
	StatusInterrupted Status = "interrupted" // a run stopped by a signal
)

// OK reports whether a node with this status produced outputs.
func (s Status) OK() bool { return s == StatusSuccess || s == StatusCached }

// Record is the durable account of one run, written as run.json in the
// run's directory under the state dir. Everything later tools need lives
// here: statuses, timings, exit codes, outputs and log paths.
type Record struct {
	Format     string                 `json:"format"`
	ID         string                 `json:"id"`
	Workflow   string                 `json:"workflow"`
	File       string                 `json:"file"`
	Status     Status                 `json:"status"`
	Error      string                 `json:"error,omitempty"`
	Started    time.Time              `json:"started"`
	Ended      time.Time              `json:"ended,omitzero"`
	DurationMS float64                `json:"duration_ms"`
	Jobs       int                    `json:"jobs"`
	Params     map[string]any         `json:"params,omitempty"`
	Partial    *Partial               `json:"partial,omitempty"`
	Nodes      map[string]*NodeRecord `json:"nodes"`
	// Order lists the nodes in the order they started, for profiles.
	Order []string `json:"order"`
}

// Partial says which part of the workflow a partial run selected.
type Partial struct {
	From  []string `json:"from,omitempty"`
	Until []string `json:"until,omitempty"`
	Only  []string `json:"only,omitempty"`
	// Reused lists upstream nodes whose results came from an earlier run.
	Reused map[string]string `json:"reused,omitempty"`
}

// NodeRecord is one node's part of a run record.
type NodeRecord struct {
	Status     Status         `json:"status"`
	Kind       Kind           `json:"kind,omitempty"`
	Started    time.Time      `json:"started,omitzero"`
	Ended      time.Time      `json:"ended,omitzero"`
	DurationMS float64        `json:"duration_ms"`
	ExitCode   *int           `json:"exit_code,omitempty"`
	Value      any            `json:"value,omitempty"`
	Outputs    map[string]any `json:"outputs,omitempty"`
	Branch     string         `json:"branch,omitempty"`
	Error      string         `json:"error,omitempty"`
	Reason     string         `json:"reason,omitempty"` // why skipped or not run
	Stdout     string         `json:"stdout,omitempty"` // log path, relative to the run dir
	Stderr     string         `json:"stderr,omitempty"`
	MaxRSS     int64          `json:"max_rss_bytes,omitempty"`
	Cache      string         `json:"cache,omitempty"` // hit, miss or stored
	CacheKey   string         `json:"cache_key,omitempty"`
}

// RunsDir is where a state dir keeps its run records.
func RunsDir(stateDir string) string { return filepath.Join(stateDir, "runs") }

// RunDir is the directory of one run.
func RunDir(stateDir, id string) string { return filepath.Join(RunsDir(stateDir), id) }

// newRunID makes a sortable, unique run id: UTC time plus randomness.
func newRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

// WriteRecord writes r atomically into its run directory and, when latest
// is set, points the state dir's "latest" file at it.
func WriteRecord(stateDir string, r *Record, latest bool) error {
	dir := RunDir(stateDir, r.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding run record: %w", err)
	}
	// The final record is synced to disk; the one written as a run starts
	// (replaced at its end, or left to show a run that was killed) and the
	// latest pointer need only be whole, which the rename gives them.
	if err := writeFileAtomic(filepath.Join(dir, "run.json"), append(data, '\n'), latest); err != nil {
		return err
	}
	if latest {
		return writeFileAtomic(filepath.Join(RunsDir(stateDir), "latest"), []byte(r.ID+"\n"), false)
	}
	return nil
}

// ErrNoRuns is returned by ReadRecord when the state dir has no runs.
var ErrNoRuns = errors.New("no runs recorded yet")

// ReadRecord reads the record of run id, or of the latest run when id is
// "" or "latest".
func ReadRecord(stateDir, id string) (*Record, error) {
	if id == "" || id == "latest" {
		b, err := os.ReadFile(filepath.Join(RunsDir(stateDir), "latest"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", RunsDir(stateDir), ErrNoRuns)
		}
		if err != nil {
			return nil, err
		}
		id = strings.TrimSpace(string(b))
	}
	path := filepath.Join(RunDir(stateDir, id), "run.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %s not found in %s", id, RunsDir(stateDir))
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: corrupt run record: %w", path, err)
	}
	if r.Format != RecordFormat {
		return nil, fmt.Errorf("%s: run record format %q, this fastdag reads %q", path, r.Format, RecordFormat)
	}
	return &r, nil
}

// latestRecordOf returns the latest finished run of w in stateDir, or nil.
// A state dir may hold runs of several workflows (the default one is shared
// by the workflows of a directory), so "latest" is only the first guess;
// run ids sort by start time.
func latestRecordOf(stateDir string, w *Workflow) *Record {
	same := func(r *Record) bool {
		return r.Workflow == w.Name && (w.Name != "" || r.File == w.File)
	}
	if r, err := ReadRecord(stateDir, "latest"); err == nil && same(r) {
		return r
	}
	entries, err := os.ReadDir(RunsDir(stateDir))
	if err != nil {
		return nil
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if !entries[i].IsDir() {
			continue
		}
		r, err := ReadRecord(stateDir, entries[i].Name())
		if err == nil && r.Status != StatusRunning && same(r) {
			return r
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temp file in the same
// directory, synced and renamed, so readers see the old or the new file.
func writeFileAtomic(path string, data []byte, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
