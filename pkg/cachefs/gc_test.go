package cachefs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustGC(t *testing.T, c *Cache, opts GCOptions) *GCReport {
	t.Helper()
	rep, err := c.GC(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Errorf("GC problems: %v", rep.Problems)
	}
	return rep
}

func blobExists(c *Cache, data []byte) bool {
	_, err := c.Backend().StatBlob(BlobIDOf(data))
	return err == nil
}

func TestGCBySizeRemovesLRU(t *testing.T) {
	c, clock := newTestCache(t)
	keys := []Key{testKey("0"), testKey("1"), testKey("2")}
	data := make([][]byte, 3)
	for i, k := range keys {
		data[i] = bytes.Repeat([]byte{'a' + byte(i)}, 1000)
		mustPut(t, c, k, Value{Outputs: map[string][]byte{"out": data[i]}})
		clock.Advance(time.Hour)
	}
	mustHit(t, c, keys[0]) // now keys[1] is least recently used

	full := mustGC(t, c, GCOptions{})
	if full.RemovedEntries != 0 || full.Entries != 3 || full.Blobs != 3 {
		t.Fatalf("GC without limits removed something: %+v", full)
	}
	rep := mustGC(t, c, GCOptions{MaxSize: full.Size - 1})
	if rep.RemovedEntries != 1 || rep.RemovedBlobs != 1 || rep.Size > full.Size-1 {
		t.Errorf("GC report = %+v, want one entry and its blob removed", rep)
	}
	wantMiss(t, c, keys[1], ErrNotFound)
	if blobExists(c, data[1]) {
		t.Errorf("blob of removed entry kept")
	}
	mustHit(t, c, keys[0])
	mustHit(t, c, keys[2])

	rep = mustGC(t, c, GCOptions{MaxSize: 1})
	if rep.Entries != 0 || rep.Blobs != 0 || rep.Size != 0 {
		t.Errorf("GC to 1 byte left %+v", rep)
	}
}

func TestGCByAge(t *testing.T) {
	c, clock := newTestCache(t)
	old, recent := testKey("old"), testKey("recent")
	mustPut(t, c, old, Value{Outputs: outputs("out", "old")})
	mustPut(t, c, recent, Value{Outputs: outputs("out", "recent")})
	clock.Advance(30 * time.Hour)
	mustHit(t, c, recent)
	clock.Advance(18 * time.Hour)
	rep := mustGC(t, c, GCOptions{MaxAge: 24 * time.Hour})
	if rep.RemovedEntries != 1 {
		t.Errorf("GC report = %+v, want one entry removed", rep)
	}
	wantMiss(t, c, old, ErrNotFound)
	mustHit(t, c, recent)
}

func TestGCRemovesExpired(t *testing.T) {
	c, clock := newTestCache(t)
	key := testKey("k")
	mustPut(t, c, key, Value{Outputs: outputs("out", "x"), TTL: time.Minute})
	mustGC(t, c, GCOptions{})
	if _, err := c.Backend().StatEntry(key); err != nil {
		t.Fatalf("GC removed an unexpired entry: %v", err)
	}
	clock.Advance(time.Minute)
	if rep := mustGC(t, c, GCOptions{}); rep.RemovedEntries != 1 || rep.RemovedBlobs != 1 {
		t.Errorf("GC report = %+v, want the expired entry and its blob removed", rep)
	}
}

func TestGCKeepsReferencedBlobs(t *testing.T) {
	c, clock := newTestCache(t)
	shared := []byte("shared output")
	a, b := testKey("a"), testKey("b")
	mustPut(t, c, a, Value{Outputs: map[string][]byte{"out": shared}, TTL: time.Hour})
	mustPut(t, c, b, Value{Outputs: map[string][]byte{"out": shared, "other": []byte("b")}})
	clock.Advance(2 * time.Hour)
	rep := mustGC(t, c, GCOptions{})
	if rep.RemovedEntries != 1 || rep.RemovedBlobs != 0 {
		t.Errorf("GC report = %+v, want entry a removed and no blob", rep)
	}
	if got := mustHit(t, c, b).Outputs["out"]; !bytes.Equal(got, shared) {
		t.Errorf("b's shared output = %q", got)
	}
}

// An unreferenced blob may be one a lock-less writer has just stored and is
// about to reference: it survives until it is older than the grace period.
func TestGCBlobGrace(t *testing.T) {
	c, clock := newTestCache(t)
	orphan := []byte("orphan")
	if err := c.Backend().PutBlob(BlobIDOf(orphan), bytes.NewReader(orphan), clock.Now()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultBlobGrace - time.Second)
	if rep := mustGC(t, c, GCOptions{MaxSize: 1}); rep.RemovedBlobs != 0 {
		t.Errorf("GC removed a blob younger than the grace period")
	}
	clock.Advance(2 * time.Second)
	if rep := mustGC(t, c, GCOptions{}); rep.RemovedBlobs != 1 || blobExists(c, orphan) {
		t.Errorf("GC kept a stale orphan blob: %+v", rep)
	}

	// Reusing an existing blob refreshes its mtime.
	mustPut(t, c, testKey("k"), Value{Outputs: map[string][]byte{"out": orphan}})
	c.Delete(testKey("k"))
	clock.Advance(DefaultBlobGrace / 2)
	mustPut(t, c, testKey("k2"), Value{Outputs: map[string][]byte{"out": orphan}})
	c.Delete(testKey("k2"))
	clock.Advance(DefaultBlobGrace/2 + time.Second)
	if rep := mustGC(t, c, GCOptions{}); rep.RemovedBlobs != 0 {
		t.Errorf("GC removed a blob Put reused within the grace period")
	}
}

func TestGCSkipsLockedEntries(t *testing.T) {
	c, clock := newTestCache(t)
	key := testKey("k")
	mustPut(t, c, key, Value{Outputs: outputs("out", "x"), TTL: time.Minute})
	clock.Advance(time.Hour)
	unlock, err := c.Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	rep := mustGC(t, c, GCOptions{MaxSize: 1})
	if rep.SkippedLocked != 1 || rep.RemovedEntries != 0 {
		t.Errorf("GC report = %+v, want the locked entry skipped", rep)
	}
	if _, err := c.Backend().StatEntry(key); err != nil {
		t.Errorf("GC removed an entry whose key is locked: %v", err)
	}
	if _, err := os.Stat(filepath.Join(disk(c).Dir(), "locks", key.String()+".lock")); err != nil {
		t.Errorf("GC removed a held lock file: %v", err)
	}
	unlock()
	if rep := mustGC(t, c, GCOptions{}); rep.RemovedEntries != 1 {
		t.Errorf("after unlock, GC report = %+v", rep)
	}
	des, _ := os.ReadDir(filepath.Join(disk(c).Dir(), "locks"))
	for _, de := range des {
		if de.Name() != gcLockName {
			t.Errorf("GC left unheld lock file %s", de.Name())
		}
	}
}

// A GC that deletes a lock file while someone waits on it must not let two
// holders in: the waiter that locked the orphaned file notices and retries.
func TestLockSurvivesLockFileRemoval(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	path := c.locks.keyPath(key)
	// Simulate the sweep: lock, remove, and only then let the waiter in.
	stale, ok, err := tryLockFile(path, false)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	os.Remove(path)
	stale.Unlock()
	unlock, err := c.Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, ok, _ := tryLockFile(path, false); ok {
		t.Errorf("a second holder got the key lock")
	}
}

func TestClear(t *testing.T) {
	c, _ := newTestCache(t)
	for _, name := range []string{"a", "b", "c"} {
		mustPut(t, c, testKey(name), Value{Outputs: outputs("out", name)})
	}
	rep, err := c.Clear(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.RemovedEntries != 3 || rep.RemovedBlobs != 3 || len(rep.Problems) != 0 {
		t.Errorf("Clear report = %+v", rep)
	}
	if list, _ := c.List(); len(list) != 0 {
		t.Errorf("List after Clear has %d entries", len(list))
	}
	wantMiss(t, c, testKey("a"), ErrNotFound)
	var left []string
	filepath.WalkDir(disk(c).Dir(), func(path string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			left = append(left, strings.TrimPrefix(path, disk(c).Dir()+"/"))
		}
		return nil
	})
	if strings.Join(left, " ") != "CACHEDIR.TAG README VERSION locks/gc.lock" {
		t.Errorf("files left after Clear: %q", left)
	}
	// Still usable.
	mustPut(t, c, testKey("a"), Value{Outputs: outputs("out", "a")})
	mustHit(t, c, testKey("a"))
}

func TestVerify(t *testing.T) {
	c, _ := newTestCache(t)
	good, badBlob, badEntry, noBlob := testKey("good"), testKey("badBlob"), testKey("badEntry"), testKey("noBlob")
	mustPut(t, c, good, Value{Outputs: outputs("out", "good")})
	mustPut(t, c, badBlob, Value{Outputs: outputs("out", "will be flipped")})
	mustPut(t, c, badEntry, Value{Outputs: outputs("out", "entry")})
	mustPut(t, c, noBlob, Value{Outputs: outputs("out", "lost")})
	flipByte(t, disk(c).BlobPath(BlobIDOf([]byte("will be flipped"))), 0)
	os.WriteFile(disk(c).EntryPath(badEntry), []byte(`{"format": "fastdag-cache-entry/1", "key": `), 0o666)
	os.Remove(disk(c).BlobPath(BlobIDOf([]byte("lost"))))

	rep, err := c.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 4 || rep.Blobs != 3 || rep.RemovedEntries != 3 || rep.RemovedBlobs != 1 || len(rep.Problems) != 4 {
		t.Errorf("Verify report = %+v (problems %q)", rep, rep.Problems)
	}
	for _, p := range rep.Problems {
		if !errors.Is(p, ErrCorrupt) || !strings.Contains(p.Error(), disk(c).Dir()) {
			t.Errorf("problem %q should wrap ErrCorrupt and name a path", p)
		}
	}
	mustHit(t, c, good)
	for _, k := range []Key{badBlob, badEntry, noBlob} {
		wantMiss(t, c, k, ErrNotFound)
	}
	if rep, _ := c.Verify(context.Background()); len(rep.Problems) != 0 || rep.Entries != 1 {
		t.Errorf("second Verify = %+v", rep)
	}
}
