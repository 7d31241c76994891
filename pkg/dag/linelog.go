package dag

import (
	"bytes"
	"io"
	"sync"
)

// lineLog interleaves the live output of concurrent nodes into one
// writer a whole line at a time, each line prefixed "[node] ", so that a
// CI log stays readable when many nodes print at once.
type lineLog struct {
	mu sync.Mutex
	w  io.Writer
}

// writer returns a writer for one stream of one node. Its last, partial
// line is written when the writer is flushed by a newline or dropped at
// the end of the node (see Flush).
func (l *lineLog) writer(node string) *lineWriter {
	return &lineWriter{log: l, prefix: []byte("[" + node + "] ")}
}

type lineWriter struct {
	log    *lineLog
	prefix []byte
	buf    []byte
}

func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.buf = append(lw.buf, p...)
	i := bytes.LastIndexByte(lw.buf, '\n')
	if i < 0 {
		if len(lw.buf) < 64<<10 {
			return len(p), nil
		}
		i = len(lw.buf) - 1 // an endless line: write it in pieces
	}
	lw.emit(lw.buf[:i+1])
	lw.buf = append(lw.buf[:0], lw.buf[i+1:]...)
	return len(p), nil
}

// Flush writes a last line that had no newline.
func (lw *lineWriter) Flush() {
	if len(lw.buf) > 0 {
		lw.emit(append(lw.buf, '\n'))
		lw.buf = lw.buf[:0]
	}
}

func (lw *lineWriter) emit(lines []byte) {
	var out bytes.Buffer
	for len(lines) > 0 {
		j := bytes.IndexByte(lines, '\n')
		out.Write(lw.prefix)
		out.Write(lines[:j+1])
		lines = lines[j+1:]
	}
	lw.log.mu.Lock()
	lw.log.w.Write(out.Bytes())
	lw.log.mu.Unlock()
}
