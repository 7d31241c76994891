package cachefs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// Locking
//
// Two kinds of lock coordinate users of one cache, within a process and
// across processes:
//
//   - A key lock (locks/<key>.lock, exclusive) is held while a key is being
//     computed and stored, so each key is computed at most once at a time
//     (GetOrCompute), and GC never deletes an entry whose key is locked.
//   - The maintenance lock (locks/gc.lock) is held shared by Put while it
//     writes blobs and the entry that references them, and exclusively by
//     GC, Verify and Clear. A sweep therefore never sees a blob that a Put
//     has written but not yet referenced.
//
// File locks are flock(2) locks via gofrs/flock. The kernel drops them when
// the owning process dies, so a lock left by a killed process is simply
// taken over: there is no stale-lock recovery step. flock locks belong to the
// open file description, so two goroutines that open the file separately
// exclude each other too; an in-process mutex sits in front of the key lock
// anyway so that waiters in one process are woken at once instead of polling,
// and so that platforms where gofrs/flock falls back to per-process fcntl
// locks stay correct.
//
// Lock files may be deleted by GC while nobody holds them. A waiter that
// opened the file before the deletion could then lock an orphaned inode
// while a newcomer locks the new file; to rule that out, every acquisition
// checks that the locked file is still the one at the path, and retries if not.

const gcLockName = "gc.lock"

// Polling bounds for waiting on a file lock held by another process.
const (
	minLockPoll = time.Millisecond
	maxLockPoll = 50 * time.Millisecond
)

// locker hands out key locks and the maintenance lock.
type locker struct {
	dir string // lock file directory; "" means in-process locks only

	mu   sync.Mutex
	keys map[Key]*keyMutex
	gcMu sync.RWMutex

	// onWait, if set, is called when an acquisition is about to wait.
	// Tests use it to know that a second caller is blocked.
	onWait func(Key)
}

type keyMutex struct {
	token chan struct{} // holds one value while locked
	refs  int           // holders and waiters; the entry is dropped at zero
}

func newLocker(dir string) (*locker, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, fmt.Errorf("create lock directory: %w", err)
		}
	}
	return &locker{dir: dir, keys: make(map[Key]*keyMutex)}, nil
}

func (l *locker) keyPath(k Key) string { return filepath.Join(l.dir, k.String()+".lock") }

func (l *locker) ref(k Key) *keyMutex {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.keys[k]
	if m == nil {
		m = &keyMutex{token: make(chan struct{}, 1)}
		l.keys[k] = m
	}
	m.refs++
	return m
}

func (l *locker) unref(k Key, m *keyMutex) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.refs--; m.refs == 0 {
		delete(l.keys, k)
	}
}

// lockKey waits for the key lock, honouring ctx.
func (l *locker) lockKey(ctx context.Context, k Key) (unlock func(), err error) {
	m := l.ref(k)
	select {
	case m.token <- struct{}{}:
	default:
		if l.onWait != nil {
			l.onWait(k)
		}
		select {
		case m.token <- struct{}{}:
		case <-ctx.Done():
			l.unref(k, m)
			return nil, ctx.Err()
		}
	}
	release := func() { <-m.token; l.unref(k, m) }
	if l.dir == "" {
		return release, nil
	}
	fl, err := lockFile(ctx, l.keyPath(k), false, func() {
		if l.onWait != nil {
			l.onWait(k)
		}
	})
	if err != nil {
		release()
		return nil, err
	}
	return func() { fl.Unlock(); release() }, nil
}

// tryLockKey takes the key lock if nobody holds it.
func (l *locker) tryLockKey(k Key) (unlock func(), ok bool, err error) {
	m := l.ref(k)
	select {
	case m.token <- struct{}{}:
	default:
		l.unref(k, m)
		return nil, false, nil
	}
	release := func() { <-m.token; l.unref(k, m) }
	if l.dir == "" {
		return release, true, nil
	}
	fl, ok, err := tryLockFile(l.keyPath(k), false)
	if !ok {
		release()
		return nil, false, err
	}
	return func() { fl.Unlock(); release() }, true, nil
}

// lockMaintenance takes the maintenance lock, shared or exclusive.
func (l *locker) lockMaintenance(ctx context.Context, exclusive bool) (unlock func(), err error) {
	try := l.gcMu.TryRLock
	release := l.gcMu.RUnlock
	if exclusive {
		try, release = l.gcMu.TryLock, l.gcMu.Unlock
	}
	if !try() {
		if err := poll(ctx, func() (bool, error) { return try(), nil }, nil); err != nil {
			return nil, err
		}
	}
	if l.dir == "" {
		return release, nil
	}
	fl, err := lockFile(ctx, filepath.Join(l.dir, gcLockName), !exclusive, nil)
	if err != nil {
		release()
		return nil, err
	}
	return func() { fl.Unlock(); release() }, nil
}

// sweep removes lock files nobody holds, except the maintenance lock file.
func (l *locker) sweep() (removed int, err error) {
	if l.dir == "" {
		return 0, nil
	}
	des, err := os.ReadDir(l.dir)
	if err != nil {
		return 0, fmt.Errorf("sweep locks: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		hexPart, ok := strings.CutSuffix(name, ".lock")
		if !ok || name == gcLockName {
			continue
		}
		k, perr := ParseKey(hexPart)
		if perr != nil {
			continue
		}
		unlock, ok, lerr := l.tryLockKey(k)
		if lerr != nil && err == nil {
			err = lerr
		}
		if !ok {
			continue
		}
		if os.Remove(l.keyPath(k)) == nil {
			removed++
		}
		unlock()
	}
	return removed, err
}

// lockFile waits for a flock on path, polling with backoff until ctx is done.
// onWait is called once if the lock is not free at the first attempt.
func lockFile(ctx context.Context, path string, shared bool, onWait func()) (*flock.Flock, error) {
	var fl *flock.Flock
	err := poll(ctx, func() (bool, error) {
		f, ok, err := tryLockFile(path, shared)
		fl = f
		return ok, err
	}, onWait)
	return fl, err
}

// tryLockFile makes one attempt to flock path, creating the file if needed.
func tryLockFile(path string, shared bool) (*flock.Flock, bool, error) {
	for mkdir := true; ; {
		fl := flock.New(path, flock.SetPermissions(0o666))
		var ok bool
		var err error
		if shared {
			ok, err = fl.TryRLock()
		} else {
			ok, err = fl.TryLock()
		}
		if errors.Is(err, fs.ErrNotExist) && mkdir {
			// Someone removed the lock directory; recreate it once.
			mkdir = false
			if os.MkdirAll(filepath.Dir(path), 0o777) == nil {
				continue
			}
		}
		if err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", path, err)
		}
		if !ok {
			return nil, false, nil
		}
		if sameFile(fl, path) {
			return fl, true, nil
		}
		// The file was deleted (by a lock sweep) after we opened it:
		// our lock is on an orphan. Retry on the current file.
		fl.Unlock()
	}
}

func sameFile(fl *flock.Flock, path string) bool {
	held, err := fl.Stat()
	if err != nil {
		return false
	}
	cur, err := os.Stat(path)
	if err != nil {
		return false
	}
	return os.SameFile(held, cur)
}

// poll calls try until it succeeds, fails, or ctx is done, sleeping with
// exponential backoff between attempts.
func poll(ctx context.Context, try func() (bool, error), onWait func()) error {
	delay := minLockPoll
	for first := true; ; first = false {
		// Try before looking at ctx: a free lock is taken even if ctx is
		// already done, like x/sync/semaphore, which keeps the outcome
		// independent of timing when there is no contention.
		ok, err := try()
		if err != nil || ok {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if first && onWait != nil {
			onWait()
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, maxLockPoll)
	}
}
