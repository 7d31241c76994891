// Package cachefs is fastdag's result cache: a content-addressed store that
// maps the key of a node run (a hash of everything the run depends on) to the
// outputs the run produced, so unchanged nodes are not run again.
//
// It follows the habits of cmd/go's build cache. An entry ("-a" file) records
// one run and names its outputs by content hash; outputs ("-d" files) are
// stored once per distinct content. Writes are atomic renames, reads verify
// everything they return (a damaged cache yields a miss, never a wrong
// result), last use is tracked through entry mtimes, and GC trims expired,
// old and least recently used entries. Several fastdag processes may share a
// cache directory on one machine: they coordinate with file locks, compute
// each key at most once at a time, and never delete data another one is
// about to use. Sharing a directory between machines over a network file
// system is not supported, because flock is unreliable there.
//
// The engine's loop is: build the key with a KeyBuilder, call
// Cache.GetOrCompute, use Result.Outputs and print Result.Warnings.
package cachefs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Reasons for a miss. Errors returned by Get wrap one of them (or an I/O
// error) and name the file involved.
var (
	// ErrNotFound: no entry for the key. A routine miss.
	ErrNotFound = errors.New("not in cache")
	// ErrExpired: the entry's TTL has passed. A routine miss.
	ErrExpired = errors.New("cache entry expired")
	// ErrFormat: the entry was written in another format version. A
	// routine miss after an upgrade.
	ErrFormat = errors.New("unsupported cache entry format")
	// ErrCorrupt: the entry or one of its blobs is damaged, truncated or
	// missing. Worth a warning; Verify removes such data.
	ErrCorrupt = errors.New("corrupt cache data")
	// ErrLayout: the cache directory was created by an incompatible version.
	ErrLayout = errors.New("unsupported cache layout")
)

// touchInterval limits how often a hit rewrites the entry mtime that records
// its last use: last-use times shown by List are accurate to this interval.
const touchInterval = time.Minute

// Options configures a Cache.
type Options struct {
	// Now returns the current time; default time.Now. It drives creation,
	// last use, expiry and GC ages, so tests can use a fake clock.
	Now func() time.Time
	// LockDir holds the lock files. Open defaults it to <dir>/locks; with
	// New and no LockDir, locks only coordinate goroutines of this process.
	LockDir string
}

// A Cache gives cache semantics (verification, expiry, single-flight, GC)
// to a Backend. It is safe for concurrent use, and several processes may use
// caches on the same directory at once.
type Cache struct {
	b     Backend
	now   func() time.Time
	locks *locker
}

// Open opens (creating if needed) the disk cache in dir.
func Open(dir string, opts Options) (*Cache, error) {
	d, err := OpenDisk(dir)
	if err != nil {
		return nil, err
	}
	if opts.LockDir == "" {
		opts.LockDir = filepath.Join(dir, "locks")
	}
	return New(d, opts)
}

// New returns a cache on top of backend b.
func New(b Backend, opts Options) (*Cache, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l, err := newLocker(opts.LockDir)
	if err != nil {
		return nil, err
	}
	return &Cache{b: b, now: opts.Now, locks: l}, nil
}

// Backend returns the backend the cache stores into.
func (c *Cache) Backend() Backend { return c.b }

// Now returns the current time according to the cache's clock.
func (c *Cache) Now() time.Time { return c.now() }

// A Value is what a computation hands to the cache to store.
type Value struct {
	Workflow, Node string
	// Manifest and KeyedInputs are copied into the entry; see Entry.
	Manifest    map[string]string
	KeyedInputs map[string]json.RawMessage
	// Outputs maps output names to content. Outputs are held in memory
	// whole, so they should be of a size a node result can reasonably have.
	Outputs map[string][]byte
	// TTL is how long the entry stays a hit; zero means forever.
	TTL time.Duration
}

// A Result is a cache hit, or a freshly computed and stored value.
type Result struct {
	Entry   *Entry
	Outputs map[string][]byte
	// Computed is true when GetOrCompute ran the computation in this call.
	Computed bool
	// Warnings lists cache problems that were worked around: damaged
	// entries treated as misses, or a failure to store the new value.
	// They never make the result wrong, but deserve to be shown.
	Warnings []error
}

// Get returns the entry for key and its outputs, all verified: the entry
// parses, has the current format, is not expired, and every blob exists with
// the recorded size and SHA-256. Any error means a miss; see the Err*
// variables for the reasons. Get never returns partial or unverified data.
func (c *Cache) Get(key Key) (*Result, error) {
	data, info, err := c.b.GetEntry(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cache entry %s: %w", key.Short(), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cache entry %s: %w", key.Short(), err)
	}
	e, err := DecodeEntry(data)
	if err != nil {
		return nil, fmt.Errorf("cache entry %s: %w", info.Name, err)
	}
	if e.Key != key {
		return nil, fmt.Errorf("cache entry %s: %w: records key %s", info.Name, ErrCorrupt, e.Key)
	}
	now := c.now()
	if e.Expired(now) {
		return nil, fmt.Errorf("cache entry %s: %w at %s", info.Name, ErrExpired, e.Expires.Format(time.RFC3339))
	}
	outputs := make(map[string][]byte, len(e.Outputs))
	for name, ref := range e.Outputs {
		b, err := c.readBlob(ref)
		if err != nil {
			return nil, fmt.Errorf("cache entry %s: output %q: %w", info.Name, name, err)
		}
		outputs[name] = b
	}
	e.LastUsed = info.ModTime
	if now.Sub(info.ModTime) >= touchInterval {
		// Best effort, like cmd/go: a failed touch only makes the
		// entry look older to GC.
		if c.b.TouchEntry(key, now) == nil {
			e.LastUsed = now
		}
	}
	return &Result{Entry: e, Outputs: outputs}, nil
}

// readBlob returns the content of ref after checking its size and hash.
func (c *Cache) readBlob(ref BlobRef) ([]byte, error) {
	rc, info, err := c.b.OpenBlob(ref.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	defer rc.Close()
	if info.Size != ref.Size {
		return nil, fmt.Errorf("%w: blob %s has %d bytes, want %d", ErrCorrupt, info.Name, info.Size, ref.Size)
	}
	data := make([]byte, ref.Size)
	if _, err := io.ReadFull(rc, data); err != nil {
		return nil, fmt.Errorf("%w: read blob %s: %w", ErrCorrupt, info.Name, err)
	}
	if n, _ := rc.Read(make([]byte, 1)); n != 0 {
		return nil, fmt.Errorf("%w: blob %s longer than %d bytes", ErrCorrupt, info.Name, ref.Size)
	}
	if sha256.Sum256(data) != ref.ID {
		return nil, fmt.Errorf("%w: blob %s: content does not match its hash", ErrCorrupt, info.Name)
	}
	return data, nil
}

func (c *Cache) newEntry(key Key, v Value, now time.Time) (*Entry, error) {
	if v.TTL < 0 {
		return nil, fmt.Errorf("store %s: negative TTL %v", key.Short(), v.TTL)
	}
	now = now.UTC()
	e := &Entry{
		Format:      EntryFormat,
		Key:         key,
		Workflow:    v.Workflow,
		Node:        v.Node,
		Created:     now,
		Manifest:    v.Manifest,
		KeyedInputs: v.KeyedInputs,
		Outputs:     make(map[string]BlobRef, len(v.Outputs)),
		LastUsed:    now,
	}
	if v.TTL > 0 {
		e.Expires = now.Add(v.TTL)
	}
	for name, data := range v.Outputs {
		ref := BlobRef{ID: BlobIDOf(data), Size: int64(len(data))}
		e.Outputs[name] = ref
		e.Size += ref.Size
	}
	return e, nil
}

// Put stores v as the result for key, replacing any previous entry, and
// returns the stored entry. Blobs are written before the entry that names
// them, so a reader never finds an entry whose blobs are still missing.
func (c *Cache) Put(ctx context.Context, key Key, v Value) (*Entry, error) {
	now := c.now()
	e, err := c.newEntry(key, v, now)
	if err != nil {
		return nil, err
	}
	enc, err := e.Encode()
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", key.Short(), err)
	}
	// Shared maintenance lock: GC must not sweep the blobs below
	// between their write and the write of the entry referencing them.
	unlock, err := c.locks.lockMaintenance(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", key.Short(), err)
	}
	defer unlock()
	for _, name := range slices.Sorted(maps.Keys(v.Outputs)) {
		if err := c.storeBlob(e.Outputs[name].ID, v.Outputs[name], now); err != nil {
			return nil, fmt.Errorf("store %s: output %q: %w", key.Short(), name, err)
		}
	}
	if err := c.b.PutEntry(key, enc, now); err != nil {
		return nil, fmt.Errorf("store %s: %w", key.Short(), err)
	}
	return e, nil
}

// storeBlob writes data under id unless an intact copy is already there, in
// which case it only refreshes the mtime (see GC's grace period).
func (c *Cache) storeBlob(id BlobID, data []byte, now time.Time) error {
	if info, err := c.b.StatBlob(id); err == nil && info.Size == int64(len(data)) {
		// Check the content: rewriting is how a damaged blob heals.
		if _, err := c.readBlob(BlobRef{ID: id, Size: info.Size}); err == nil {
			return c.b.TouchBlob(id, now)
		}
	}
	return c.b.PutBlob(id, bytes.NewReader(data), now)
}

// Delete removes the entry for key. Its blobs go at the next GC if no other
// entry uses them.
func (c *Cache) Delete(key Key) error {
	err := c.b.DeleteEntry(key)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// List returns every readable entry, sorted by workflow, node and newest
// first, with LastUsed filled in. Expired entries are included (check
// Entry.Expired); unreadable ones are skipped, Verify reports them. It reads
// only entry files, not blobs, so filtering the result is cheap.
func (c *Cache) List() ([]*Entry, error) {
	var list []*Entry
	err := c.b.ListEntries(func(k Key, _ Info) error {
		data, info, err := c.b.GetEntry(k)
		if err != nil {
			return nil // removed meanwhile, or unreadable
		}
		e, err := DecodeEntry(data)
		if err != nil || e.Key != k {
			return nil
		}
		e.LastUsed = info.ModTime
		list = append(list, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list cache: %w", err)
	}
	slices.SortFunc(list, func(a, b *Entry) int {
		if c := strings.Compare(a.Workflow, b.Workflow); c != 0 {
			return c
		}
		if c := strings.Compare(a.Node, b.Node); c != 0 {
			return c
		}
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return bytes.Compare(a.Key[:], b.Key[:])
	})
	return list, nil
}

// Lock takes the key lock for key, waiting until it is free or ctx is done.
// While it is held no other GetOrCompute (in any process) computes key and GC
// does not remove its entry. GetOrCompute takes it for you.
func (c *Cache) Lock(ctx context.Context, key Key) (unlock func(), err error) {
	unlock, err = c.locks.lockKey(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", key.Short(), err)
	}
	return unlock, nil
}

// GetOrCompute returns the cached result for key or, on a miss, runs compute
// and stores its value. Across goroutines and processes sharing the cache a
// key is computed at most once at a time: the first caller computes under
// the key lock while the others wait, then find its entry.
//
// Errors from compute are returned as they are, and nothing is stored.
// Cache trouble never fails the call: damaged entries count as misses and a
// failed store still returns the computed value; both are reported in
// Result.Warnings. Only cancellation of ctx while waiting is an error.
func (c *Cache) GetOrCompute(ctx context.Context, key Key, compute func(context.Context) (Value, error)) (*Result, error) {
	var warns []error
	res, err := c.Get(key)
	if err == nil {
		return res, nil
	}
	warns = noteMiss(warns, err)

	unlock, warns, err := c.lockOrWarn(ctx, key, warns)
	if err != nil {
		return nil, err
	}
	defer unlock()

	// Someone may have stored the entry while we waited.
	res, err = c.Get(key)
	if err == nil {
		res.Warnings = warns
		return res, nil
	}
	warns = noteMiss(warns, err)
	return c.computeAndPut(ctx, key, compute, warns)
}

// Refresh recomputes key under its lock, whatever the cache holds, and
// overwrites the entry: what fastdag run --refresh does.
func (c *Cache) Refresh(ctx context.Context, key Key, compute func(context.Context) (Value, error)) (*Result, error) {
	unlock, warns, err := c.lockOrWarn(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.computeAndPut(ctx, key, compute, warns)
}

// lockOrWarn takes key's lock. Without one (say, an unwritable lock
// directory) work goes on unlocked, at the price of possibly duplicated
// work, with a warning; only cancellation is an error.
func (c *Cache) lockOrWarn(ctx context.Context, key Key, warns []error) (func(), []error, error) {
	unlock, err := c.Lock(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			return nil, warns, err
		}
		return func() {}, append(warns, err), nil
	}
	return unlock, warns, nil
}

// computeAndPut computes and stores a value. A failed store is a warning:
// the computed result is still returned, with the entry it would have had.
func (c *Cache) computeAndPut(ctx context.Context, key Key, compute func(context.Context) (Value, error), warns []error) (*Result, error) {
	v, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	e, err := c.Put(ctx, key, v)
	if err != nil {
		warns = append(warns, err)
		if e, err = c.newEntry(key, v, c.now()); err != nil {
			return nil, err
		}
	}
	return &Result{Entry: e, Outputs: v.Outputs, Computed: true, Warnings: warns}, nil
}

// noteMiss appends the reason for a miss to warns unless it is routine or
// already listed.
func noteMiss(warns []error, err error) []error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) || errors.Is(err, ErrFormat) {
		return warns
	}
	for _, w := range warns {
		if w.Error() == err.Error() {
			return warns
		}
	}
	return append(warns, err)
}
