package nodes

import (
	"os"
	"path/filepath"
	"time"
)

// pipeDrain is how long a node's output pipes may stay open after its
// process exited (a background child holding them), before fastdag closes
// them and moves on.
const pipeDrain = 2 * time.Second

// spillAt is how much output a node keeps in memory before it goes to
// its log file as it comes.
const spillAt = 64 << 10

// spill collects a process's stdout or stderr: in memory while it is
// small, in its log file once it is not, and in the file in any case when
// the node is done, if there was any. Nodes that print nothing create no
// files, which is most of what a small process node would cost the disk.
type spill struct {
	path string
	buf  []byte
	f    *os.File
	err  error
	done bool
	kept bool // a log file exists
}

func (s *spill) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.f == nil && len(s.buf)+len(p) <= spillAt {
		s.buf = append(s.buf, p...)
		return len(p), nil
	}
	if s.f == nil {
		if s.f, s.err = os.Create(s.path); s.err != nil {
			return 0, s.err
		}
		s.kept = true
		if _, s.err = s.f.Write(s.buf); s.err != nil {
			return 0, s.err
		}
		s.buf = nil
	}
	n, err := s.f.Write(p)
	s.err = err
	return n, err
}

// close writes what is still in memory to the log file, if anything.
// It may be called more than once.
func (s *spill) close() error {
	if s.done {
		return s.err
	}
	s.done = true
	if s.f != nil {
		if err := s.f.Close(); s.err == nil {
			s.err = err
		}
		return s.err
	}
	if len(s.buf) > 0 && s.err == nil {
		s.err = os.WriteFile(s.path, s.buf, 0o644)
		s.kept = s.err == nil
	}
	return s.err
}

// bytes is everything written.
func (s *spill) bytes() ([]byte, error) {
	if s.f != nil {
		return os.ReadFile(s.path)
	}
	return s.buf, s.err
}

// writeFileAtomic writes data to path by renaming a temp file over it, so
// that concurrent writers of the same content never expose a torn file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
