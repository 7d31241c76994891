package cachefs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPutGetRoundtrip(t *testing.T) {
	c, clock := newTestCache(t)
	kb := NewKeyBuilder()
	kb.Add("kind", "shell")
	kb.Add("command", "echo hi")
	key := kb.Key()
	v := Value{
		Workflow:    "wf",
		Node:        "greet",
		Manifest:    kb.Manifest(),
		KeyedInputs: map[string]json.RawMessage{"user": json.RawMessage(`"ann"`)},
		Outputs:     outputs("stdout", "hi\n", "count", "1", "empty", ""),
	}
	put := mustPut(t, c, key, v)
	if put.Size != 4 || !put.Created.Equal(clock.Now()) {
		t.Errorf("Put entry: size %d created %v", put.Size, put.Created)
	}
	clock.Advance(time.Hour)
	res := mustHit(t, c, key)
	if !sameOutputs(res.Outputs, v.Outputs) {
		t.Errorf("Get outputs = %q, want %q", res.Outputs, v.Outputs)
	}
	e := res.Entry
	if e.Key != key || e.Node != "greet" || e.Workflow != "wf" || e.Manifest["kind"] != "shell" ||
		string(e.KeyedInputs["user"]) != `"ann"` || e.Size != 4 || !e.Created.Equal(put.Created) {
		t.Errorf("Get entry = %+v", e)
	}
	if !e.LastUsed.Equal(clock.Now()) {
		t.Errorf("LastUsed = %v, want %v (hit should record use)", e.LastUsed, clock.Now())
	}
	if info, err := disk(c).StatEntry(key); err != nil || !info.ModTime.Equal(clock.Now()) {
		t.Errorf("entry mtime = %v, %v; want %v", info.ModTime, err, clock.Now())
	}
}

func TestMissUnknownKey(t *testing.T) {
	c, _ := newTestCache(t)
	wantMiss(t, c, testKey("nope"), ErrNotFound)
}

func TestPutReplaces(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	mustPut(t, c, key, Value{Outputs: outputs("out", "one")})
	mustPut(t, c, key, Value{Outputs: outputs("out", "two")})
	if got := string(mustHit(t, c, key).Outputs["out"]); got != "two" {
		t.Errorf("after second Put, out = %q", got)
	}
}

func TestTTLExpiry(t *testing.T) {
	c, clock := newTestCache(t)
	key := testKey("ttl")
	e := mustPut(t, c, key, Value{Outputs: outputs("out", "x"), TTL: time.Hour})
	if !e.Expires.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("Expires = %v", e.Expires)
	}
	clock.Advance(59 * time.Minute)
	mustHit(t, c, key)
	clock.Advance(time.Minute)
	wantMiss(t, c, key, ErrExpired)
	if _, err := c.Put(context.Background(), key, Value{TTL: -time.Second}); err == nil {
		t.Errorf("Put with negative TTL succeeded")
	}
}

func TestCorruptBlobIsMiss(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	data := []byte("some output")
	mustPut(t, c, key, Value{Outputs: map[string][]byte{"out": data}})
	path := disk(c).BlobPath(BlobIDOf(data))
	flipByte(t, path, 3)
	err := wantMiss(t, c, key, ErrCorrupt)
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the blob %s", err, path)
	}

	// GetOrCompute recomputes, warns, and the rewrite heals the blob.
	res, err := c.GetOrCompute(context.Background(), key, func(context.Context) (Value, error) {
		return Value{Outputs: map[string][]byte{"out": data}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Computed || len(res.Warnings) != 1 || !errors.Is(res.Warnings[0], ErrCorrupt) {
		t.Errorf("GetOrCompute: computed=%v warnings=%v, want recompute with one ErrCorrupt warning", res.Computed, res.Warnings)
	}
	mustHit(t, c, key)
}

func TestTruncatedBlobIsMiss(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	data := []byte("some output")
	mustPut(t, c, key, Value{Outputs: map[string][]byte{"out": data}})
	if err := os.Truncate(disk(c).BlobPath(BlobIDOf(data)), 4); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, c, key, ErrCorrupt)
}

func TestTruncatedEntryIsMiss(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	mustPut(t, c, key, Value{Outputs: outputs("out", "x")})
	path := disk(c).EntryPath(key)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every prefix of the entry short of its closing brace (a torn write,
	// had writes not been atomic) must be a miss.
	end := strings.LastIndexByte(string(data), '}')
	for n := range end {
		if err := os.WriteFile(path, data[:n], 0o666); err != nil {
			t.Fatal(err)
		}
		if res, err := c.Get(key); err == nil {
			t.Fatalf("entry truncated to %d bytes is a hit: %v", n, res.Outputs)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("entry truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

func TestMissingBlobIsMiss(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	mustPut(t, c, key, Value{Outputs: outputs("a", "1", "b", "2")})
	if err := os.Remove(disk(c).BlobPath(BlobIDOf([]byte("2")))); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, c, key, ErrCorrupt)
}

func TestWrongFormatIsMiss(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	mustPut(t, c, key, Value{Outputs: outputs("out", "x")})
	path := disk(c).EntryPath(key)
	data, _ := os.ReadFile(path)
	data = []byte(strings.Replace(string(data), EntryFormat, "fastdag-cache-entry/2", 1))
	os.WriteFile(path, data, 0o666)
	wantMiss(t, c, key, ErrFormat)
}

func TestEntryForOtherKeyIsMiss(t *testing.T) {
	c, _ := newTestCache(t)
	a, b := testKey("a"), testKey("b")
	mustPut(t, c, a, Value{Outputs: outputs("out", "a")})
	data, _ := os.ReadFile(disk(c).EntryPath(a))
	os.MkdirAll(filepath.Dir(disk(c).EntryPath(b)), 0o777)
	if err := os.WriteFile(disk(c).EntryPath(b), data, 0o666); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, c, b, ErrCorrupt)
}

// A writer that dies before its rename leaves only a temporary file, which
// is never read as an entry and is swept later.
func TestTornWriteIsNeverHit(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	good := mustPut(t, c, key, Value{Outputs: outputs("out", "x")})
	enc, _ := good.Encode()
	if err := c.Delete(key); err != nil {
		t.Fatal(err)
	}
	path := disk(c).EntryPath(key)
	tmp := filepath.Join(filepath.Dir(path), tempPrefix+filepath.Base(path)+"-dead")
	if err := os.WriteFile(tmp, enc[:len(enc)/2], 0o666); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, c, key, ErrNotFound)
	if list, _ := c.List(); len(list) != 0 {
		t.Errorf("List shows %d entries, want 0", len(list))
	}

	// Young temporary files may belong to a live writer: kept.
	if _, err := c.GC(context.Background(), GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("GC removed a fresh temporary file: %v", err)
	}
	old := time.Now().Add(-2 * DefaultBlobGrace)
	os.Chtimes(tmp, old, old)
	if _, err := c.GC(context.Background(), GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("GC kept a stale temporary file: %v", err)
	}
}

func TestDelete(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	mustPut(t, c, key, Value{Outputs: outputs("out", "x")})
	if err := c.Delete(key); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, c, key, ErrNotFound)
	if err := c.Delete(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}

func TestList(t *testing.T) {
	c, clock := newTestCache(t)
	a, b, z := testKey("a"), testKey("b"), testKey("z")
	mustPut(t, c, a, Value{Workflow: "w", Node: "n1", Outputs: outputs("out", "a")})
	clock.Advance(time.Hour)
	mustPut(t, c, b, Value{Workflow: "w", Node: "n1", Outputs: outputs("out", "bb"), TTL: time.Minute})
	mustPut(t, c, z, Value{Workflow: "w", Node: "n0", Outputs: outputs("out", "zzz")})
	clock.Advance(time.Hour)
	mustHit(t, c, a)
	list, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []Key
	for _, e := range list {
		got = append(got, e.Key)
	}
	want := []Key{z, b, a} // by node, then newest first
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("List order = %v, want %v", got, want)
	}
	if !list[2].LastUsed.Equal(clock.Now()) || !list[1].Expired(clock.Now()) || list[0].Size != 3 {
		t.Errorf("List entries: %+v", list)
	}
}

func TestMatchInputs(t *testing.T) {
	e := &Entry{KeyedInputs: map[string]json.RawMessage{
		"user": json.RawMessage(`"ann"`),
		"n":    json.RawMessage(`3`),
		"obj":  json.RawMessage(`{"a": 1}`),
	}}
	for match, want := range map[string]bool{
		"":             true,
		"user=ann":     true,
		"user=bob":     false,
		"n=3":          true,
		"n=4":          false,
		`obj={"a":1}`:  true,
		"user=ann,n=3": true,
		"user=ann,n=4": false,
		"missing=x":    false,
	} {
		m := map[string]string{}
		for kv := range strings.SplitSeq(match, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m[k] = v
			}
		}
		if got := e.MatchInputs(m); got != want {
			t.Errorf("MatchInputs(%q) = %v, want %v", match, got, want)
		}
	}
}

func TestOpenRejectsOtherLayout(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"README", "VERSION", "CACHEDIR.TAG", "locks"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("fresh cache lacks %s: %v", f, err)
		}
	}
	os.WriteFile(filepath.Join(dir, "VERSION"), []byte("fastdag-cache-layout/99\n"), 0o666)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLayout) {
		t.Errorf("Open of other layout = %v, want ErrLayout", err)
	}
}

func TestComputeErrorNotStored(t *testing.T) {
	c, _ := newTestCache(t)
	key := testKey("k")
	boom := errors.New("boom")
	_, err := c.GetOrCompute(context.Background(), key, func(context.Context) (Value, error) { return Value{}, boom })
	if !errors.Is(err, boom) {
		t.Errorf("GetOrCompute error = %v, want compute's error", err)
	}
	wantMiss(t, c, key, ErrNotFound)
}

func flipByte(t *testing.T, path string, off int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0x20
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}
}

// Refresh computes even when the entry is there, and what it stores is
// what the next Get returns.
func TestRefreshOverwrites(t *testing.T) {
	c, _ := newTestCache(t)
	ctx := context.Background()
	key := testKey("refresh")
	put := func(s string) func(context.Context) (Value, error) {
		return func(context.Context) (Value, error) {
			return Value{Node: "n", Outputs: map[string][]byte{"out": []byte(s)}}, nil
		}
	}
	if _, err := c.GetOrCompute(ctx, key, put("old")); err != nil {
		t.Fatal(err)
	}
	res, err := c.Refresh(ctx, key, put("new"))
	if err != nil || !res.Computed {
		t.Fatalf("Refresh = %+v, %v; want a computed result", res, err)
	}
	got, err := c.Get(key)
	if err != nil || string(got.Outputs["out"]) != "new" {
		t.Fatalf("after Refresh, Get = %q, %v; want new", got.Outputs["out"], err)
	}
}
