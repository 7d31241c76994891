package cachefs

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestCache(t testing.TB) (*Cache, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	c, err := Open(t.TempDir(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

func disk(c *Cache) *Disk { return c.Backend().(*Disk) }

func testKey(name string) Key {
	kb := NewKeyBuilder()
	kb.Add("test", name)
	return kb.Key()
}

func mustPut(t testing.TB, c *Cache, key Key, v Value) *Entry {
	t.Helper()
	e, err := c.Put(context.Background(), key, v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustHit(t testing.TB, c *Cache, key Key) *Result {
	t.Helper()
	res, err := c.Get(key)
	if err != nil {
		t.Fatalf("Get(%s): %v, want hit", key.Short(), err)
	}
	return res
}

func wantMiss(t testing.TB, c *Cache, key Key, reason error) error {
	t.Helper()
	res, err := c.Get(key)
	if err == nil {
		t.Fatalf("Get(%s) = hit %v, want miss (%v)", key.Short(), res.Outputs, reason)
	}
	if !errors.Is(err, reason) {
		t.Fatalf("Get(%s) error = %v, want %v", key.Short(), err, reason)
	}
	return err
}

func outputs(kv ...string) map[string][]byte {
	m := make(map[string][]byte)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func sameOutputs(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}
