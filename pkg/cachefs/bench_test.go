package cachefs

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// BenchmarkGetHit measures one verified lookup: read and decode the entry,
// stat, read and hash a 1 KiB blob.
func BenchmarkGetHit(b *testing.B) {
	c, _ := newTestCache(b)
	key := testKey("bench")
	mustPut(b, c, key, Value{Node: "n", Manifest: map[string]string{"kind": "shell", "command": "sha256:0011223344556677"},
		Outputs: map[string][]byte{"stdout": bytes.Repeat([]byte("x"), 1024)}})
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Get(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMiss measures a lookup of an absent key.
func BenchmarkGetMiss(b *testing.B) {
	c, _ := newTestCache(b)
	key := testKey("absent")
	for b.Loop() {
		if _, err := c.Get(key); err == nil {
			b.Fatal("hit")
		}
	}
}

// BenchmarkPut measures storing a new entry with a new 1 KiB blob, fsyncs
// included.
func BenchmarkPut(b *testing.B) {
	c, _ := newTestCache(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		out := fmt.Appendf(bytes.Repeat([]byte("x"), 1024), "%d", i)
		if _, err := c.Put(ctx, testKey(fmt.Sprint(i)), Value{Node: "n", Outputs: map[string][]byte{"stdout": out}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyBuilder measures building a key from a few ingredients.
func BenchmarkKeyBuilder(b *testing.B) {
	for b.Loop() {
		kb := NewKeyBuilder()
		kb.Add("kind", "shell")
		kb.Add("command", "make -C src all")
		kb.AddJSON("input.user", map[string]any{"name": "ann", "n": 3})
		_ = kb.Key()
		_ = kb.Manifest()
	}
}
