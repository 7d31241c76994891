package cachefs

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestKeyBuilderOrderIndependent(t *testing.T) {
	a := NewKeyBuilder()
	a.Add("kind", "shell")
	a.Add("command", "echo hi")
	b := NewKeyBuilder()
	b.Add("command", "echo hi")
	b.Add("kind", "shell")
	if a.Key() != b.Key() {
		t.Errorf("keys differ with ingredient order: %s vs %s", a.Key(), b.Key())
	}
}

func TestKeyBuilderUnambiguous(t *testing.T) {
	keys := map[Key]string{}
	add := func(desc string, kb *KeyBuilder) {
		t.Helper()
		k := kb.Key()
		if other, dup := keys[k]; dup {
			t.Errorf("%s and %s give the same key", desc, other)
		}
		keys[k] = desc
	}
	kb := NewKeyBuilder()
	add("empty", kb)
	kb = NewKeyBuilder()
	kb.Add("a", "bc")
	add("a=bc", kb)
	kb = NewKeyBuilder()
	kb.Add("ab", "c")
	add("ab=c", kb)
	kb = NewKeyBuilder()
	kb.Add("a", "b")
	kb.Add("c", "")
	add("a=b,c=", kb)
	kb = NewKeyBuilder()
	kb.Add("a", "")
	add("a=", kb)
	kb = NewKeyBuilder()
	kb.Add("a", "b")
	add("a=b", kb)
}

func TestKeyBuilderJSONCanonical(t *testing.T) {
	a := NewKeyBuilder()
	if err := a.AddJSON("input", map[string]any{"x": 1, "y": []any{"a", true}}); err != nil {
		t.Fatal(err)
	}
	b := NewKeyBuilder()
	if err := b.AddJSON("input", json.RawMessage(`{ "y": ["a", true],  "x": 1 }`)); err != nil {
		t.Fatal(err)
	}
	if a.Key() != b.Key() {
		t.Errorf("equal JSON values give different keys")
	}
	c := NewKeyBuilder()
	c.AddJSON("input", json.RawMessage(`{"y":["a",true],"x":1.0}`))
	if c.Key() == a.Key() {
		t.Errorf("1 and 1.0 should stay distinct (numbers are kept as written)")
	}
	if err := NewKeyBuilder().AddJSON("bad", func() {}); err == nil {
		t.Errorf("AddJSON(func) succeeded")
	}
}

func TestKeyBuilderManifest(t *testing.T) {
	kb := NewKeyBuilder()
	kb.Add("kind", "shell")
	kb.Add("command", strings.Repeat("x", 100))
	kb.AddJSON("input.n", 3)
	kb.Add("tricky", "sha256:0011")
	m := kb.Manifest()
	if m["kind"] != "shell" || m["input.n"] != "3" {
		t.Errorf("small values not kept verbatim: %v", m)
	}
	for _, name := range []string{"command", "tricky"} {
		if !strings.HasPrefix(m[name], "sha256:") || len(m[name]) != len("sha256:")+16 {
			t.Errorf("manifest[%s] = %q, want short hash", name, m[name])
		}
	}
	m["kind"] = "changed"
	if kb.Manifest()["kind"] != "shell" {
		t.Errorf("Manifest returned the internal map")
	}
}

func TestKeyBuilderDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("adding an ingredient twice did not panic")
		}
	}()
	kb := NewKeyBuilder()
	kb.Add("a", "1")
	kb.Add("a", "2")
}

func TestParseKey(t *testing.T) {
	k := testKey("x")
	got, err := ParseKey(k.String())
	if err != nil || got != k {
		t.Fatalf("ParseKey(String()) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "00", strings.ToUpper(k.String()), k.String()[:63] + "g", k.String() + "0"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) succeeded", bad)
		}
	}
	id := BlobIDOf([]byte("hello"))
	if got, err := ParseBlobID(id.String()); err != nil || got != id {
		t.Errorf("ParseBlobID(String()) = %v, %v", got, err)
	}
}

func TestDiffManifests(t *testing.T) {
	old := map[string]string{"kind": "shell", "command": "a", "gone": "1"}
	new := map[string]string{"kind": "shell", "command": "b", "added": "2"}
	got := DiffManifests(old, new)
	want := []string{"+added", "command: a -> b", "-gone"}
	if !slices.Equal(got, want) {
		t.Errorf("DiffManifests = %q, want %q", got, want)
	}
}
