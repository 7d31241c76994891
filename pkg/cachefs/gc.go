package cachefs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

// DefaultBlobGrace is how long GC keeps a blob that no entry references.
const DefaultBlobGrace = time.Hour

// GCOptions says how much to trim. The zero value only removes expired and
// unreadable entries and stale unreferenced blobs.
type GCOptions struct {
	// MaxSize is the target total size in bytes of entry and blob files;
	// zero means no limit. Least recently used entries go first.
	MaxSize int64
	// MaxAge removes entries not used for longer than this; zero means
	// no limit.
	MaxAge time.Duration
	// BlobGrace overrides DefaultBlobGrace.
	BlobGrace time.Duration
}

// A GCReport says what GC (or Clear) did and what is left.
type GCReport struct {
	RemovedEntries, RemovedBlobs int
	Freed                        int64 // bytes
	// SkippedLocked counts entries GC wanted to remove but left because
	// their key was locked by a running computation.
	SkippedLocked int
	// Entries, Blobs and Size describe what remains.
	Entries, Blobs int
	Size           int64
	// Problems lists files that could not be read or removed.
	Problems []error
}

// GC trims the cache, safely while other processes use it:
//
//  1. entries that are unreadable, expired, or unused for MaxAge go;
//  2. then least recently used entries until the total is under MaxSize;
//  3. blobs lose their place once no entry references them.
//
// GC never removes an entry whose key lock is held (it is being recomputed
// or its outputs are being read by GetOrCompute).
//
// Grace rule for blobs. GC runs under the exclusive maintenance lock and Put
// holds it shared from its first blob write to its entry write, so no Put is
// between "blob written" and "blob referenced" while GC looks. Blobs whose
// last entry this GC run removed are therefore deleted at once. Blobs that
// were already unreferenced when GC started are only deleted when their mtime
// (set on every write or reuse by Put) is older than BlobGrace: that covers
// writers that do not take the lock, such as a remote backend's uploader or a
// process on a file system where flock does not work, and costs at most one
// grace period of garbage. Temporary files of interrupted writes are removed
// after the same grace period, measured by the wall clock.
func (c *Cache) GC(ctx context.Context, opts GCOptions) (*GCReport, error) {
	if opts.BlobGrace <= 0 {
		opts.BlobGrace = DefaultBlobGrace
	}
	unlock, err := c.locks.lockMaintenance(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	defer unlock()

	now := c.now()
	st, err := c.scan()
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	rep := &GCReport{}
	total := st.size()

	dropBlob := func(id BlobID) {
		info, ok := st.blobs[id]
		if !ok {
			return
		}
		if err := c.b.DeleteBlob(id); err != nil && !errors.Is(err, fs.ErrNotExist) {
			rep.Problems = append(rep.Problems, fmt.Errorf("gc: %w", err))
			return
		}
		delete(st.blobs, id)
		rep.RemovedBlobs++
		rep.Freed += info.Size
		total -= info.Size
	}
	skipped := make(map[Key]bool)
	drop := func(it *scanned) bool {
		unlockKey, ok, err := c.locks.tryLockKey(it.key)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Errorf("gc: %w", err))
			return false
		}
		if !ok {
			skipped[it.key] = true
			return false
		}
		defer unlockKey()
		if err := c.b.DeleteEntry(it.key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			rep.Problems = append(rep.Problems, fmt.Errorf("gc: %w", err))
			return false
		}
		rep.RemovedEntries++
		rep.Freed += it.info.Size
		total -= it.info.Size
		if it.entry != nil {
			for _, ref := range it.entry.Outputs {
				if st.refs[ref.ID]--; st.refs[ref.ID] == 0 {
					dropBlob(ref.ID)
				}
			}
		}
		return true
	}

	// Blobs nobody referenced before this run: only after the grace period.
	cutoff := now.Add(-opts.BlobGrace)
	for id, info := range st.blobs {
		if st.refs[id] == 0 && info.ModTime.Before(cutoff) {
			dropBlob(id)
		}
	}

	var live []*scanned
	for _, it := range st.entries {
		stale := it.entry == nil || it.entry.Expired(now) ||
			opts.MaxAge > 0 && it.info.ModTime.Before(now.Add(-opts.MaxAge))
		if !stale || !drop(it) {
			live = append(live, it)
		}
	}

	if opts.MaxSize > 0 && total > opts.MaxSize {
		slices.SortFunc(live, func(a, b *scanned) int {
			if c := a.info.ModTime.Compare(b.info.ModTime); c != 0 {
				return c
			}
			return bytes.Compare(a.key[:], b.key[:])
		})
		kept := live[:0]
		for _, it := range live {
			if total <= opts.MaxSize || !drop(it) {
				kept = append(kept, it)
			}
		}
		live = kept
	}

	if _, err := c.locks.sweep(); err != nil {
		rep.Problems = append(rep.Problems, fmt.Errorf("gc: %w", err))
	}
	if s, ok := c.b.(tempSweeper); ok {
		if _, err := s.sweepTemp(time.Now().Add(-opts.BlobGrace)); err != nil {
			rep.Problems = append(rep.Problems, fmt.Errorf("gc: %w", err))
		}
	}
	rep.Entries, rep.Blobs, rep.Size = len(live), len(st.blobs), total
	rep.SkippedLocked = len(skipped)
	return rep, nil
}

// Clear removes every entry and blob, leaving an empty, usable cache (the
// README and layout markers stay). It waits for running Puts to finish.
func (c *Cache) Clear(ctx context.Context) (*GCReport, error) {
	unlock, err := c.locks.lockMaintenance(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("clear cache: %w", err)
	}
	defer unlock()
	rep := &GCReport{}
	remove := func(del func() error, size int64, n *int) error {
		if err := del(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			rep.Problems = append(rep.Problems, fmt.Errorf("clear cache: %w", err))
			return nil
		}
		*n++
		rep.Freed += size
		return nil
	}
	err = c.b.ListEntries(func(k Key, info Info) error {
		return remove(func() error { return c.b.DeleteEntry(k) }, info.Size, &rep.RemovedEntries)
	})
	if err != nil {
		return rep, fmt.Errorf("clear cache: %w", err)
	}
	err = c.b.ListBlobs(func(id BlobID, info Info) error {
		return remove(func() error { return c.b.DeleteBlob(id) }, info.Size, &rep.RemovedBlobs)
	})
	if err != nil {
		return rep, fmt.Errorf("clear cache: %w", err)
	}
	// With the exclusive lock held no Put is writing, so every temporary
	// file is a leftover.
	if s, ok := c.b.(tempSweeper); ok {
		if _, err := s.sweepTemp(time.Now().Add(time.Hour)); err != nil {
			rep.Problems = append(rep.Problems, fmt.Errorf("clear cache: %w", err))
		}
	}
	if _, err := c.locks.sweep(); err != nil {
		rep.Problems = append(rep.Problems, fmt.Errorf("clear cache: %w", err))
	}
	return rep, nil
}

// tempSweeper is implemented by backends that can leave temporary files.
type tempSweeper interface {
	sweepTemp(cutoff time.Time) (int, error)
}

// scanned is one entry file as seen by a scan; entry is nil if unreadable.
type scanned struct {
	key   Key
	info  Info
	entry *Entry
	err   error
}

type scanState struct {
	entries []*scanned
	blobs   map[BlobID]Info
	refs    map[BlobID]int
}

func (st *scanState) size() int64 {
	var n int64
	for _, it := range st.entries {
		n += it.info.Size
	}
	for _, info := range st.blobs {
		n += info.Size
	}
	return n
}

// scan reads every entry and lists every blob.
func (c *Cache) scan() (*scanState, error) {
	st := &scanState{blobs: make(map[BlobID]Info), refs: make(map[BlobID]int)}
	if err := c.b.ListBlobs(func(id BlobID, info Info) error {
		st.blobs[id] = info
		return nil
	}); err != nil {
		return nil, err
	}
	err := c.b.ListEntries(func(k Key, info Info) error {
		it := &scanned{key: k, info: info}
		data, info2, err := c.b.GetEntry(k)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			it.err = err
		default:
			it.info = info2
			e, err := DecodeEntry(data)
			if err == nil && e.Key != k {
				err = fmt.Errorf("%w: records key %s", ErrCorrupt, e.Key)
			}
			if err != nil {
				it.err = fmt.Errorf("cache entry %s: %w", info2.Name, err)
			} else {
				e.LastUsed = info2.ModTime
				it.entry = e
				for _, ref := range e.Outputs {
					st.refs[ref.ID]++
				}
			}
		}
		st.entries = append(st.entries, it)
		return nil
	})
	return st, err
}
