package cachefs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"unicode"
	"unicode/utf8"
)

// keyFormat is hashed into every Key. Bump it when the meaning of an
// ingredient changes, so old entries become unreachable instead of wrong.
const keyFormat = "fastdag-cache-key/1"

// A Key identifies a computation: the SHA-256 of everything that may influence
// its result (node kind, command text, inputs, upstream output IDs ...).
// Build one with a KeyBuilder.
type Key [sha256.Size]byte

// A BlobID identifies stored content: the SHA-256 of the bytes themselves.
type BlobID [sha256.Size]byte

// String returns the key as 64 lowercase hex digits.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// String returns the ID as 64 lowercase hex digits.
func (id BlobID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 12 hex digits, enough for humans to tell keys apart.
func (k Key) Short() string { return k.String()[:12] }

// MarshalText encodes the key as hex so that entries stay readable with cat.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses the hex form written by MarshalText.
func (k *Key) UnmarshalText(b []byte) error { return decodeHex(k[:], b, "key") }

// MarshalText encodes the ID as hex.
func (id BlobID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the hex form written by MarshalText.
func (id *BlobID) UnmarshalText(b []byte) error { return decodeHex(id[:], b, "blob id") }

// ParseKey parses the 64-hex-digit form of a Key, as printed by String and
// shown by "fastdag cache ls".
func ParseKey(s string) (Key, error) {
	var k Key
	return k, k.UnmarshalText([]byte(s))
}

// ParseBlobID parses the 64-hex-digit form of a BlobID.
func ParseBlobID(s string) (BlobID, error) {
	var id BlobID
	return id, id.UnmarshalText([]byte(s))
}

// BlobIDOf returns the ID under which data is stored.
func BlobIDOf(data []byte) BlobID { return sha256.Sum256(data) }

func decodeHex(dst, src []byte, what string) error {
	if len(src) != 2*len(dst) {
		return fmt.Errorf("invalid %s %q: want %d hex digits, have %d", what, src, 2*len(dst), len(src))
	}
	// Only lowercase is accepted so every key has exactly one spelling,
	// which is also its file name.
	for _, c := range src {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("invalid %s %q: not lowercase hex", what, src)
		}
	}
	_, err := hex.Decode(dst, src)
	return err
}

// A KeyBuilder accumulates named ingredients and derives a Key from them.
//
// The result does not depend on the order of Add calls: each ingredient is
// hashed on its own and the final key hashes the (name, hash) pairs sorted by
// name, every field length-prefixed so that no two ingredient sets collide by
// concatenation. Alongside the key the builder keeps a manifest (name → small
// value or short hash) that is stored in the entry so a later miss can be
// explained with DiffManifests.
//
// Adding the same name twice panics: it is a bug in the caller, and silently
// keeping either value would make keys ambiguous.
type KeyBuilder struct {
	sums     map[string][sha256.Size]byte
	manifest map[string]string
}

// NewKeyBuilder returns an empty builder.
func NewKeyBuilder() *KeyBuilder {
	return &KeyBuilder{
		sums:     make(map[string][sha256.Size]byte),
		manifest: make(map[string]string),
	}
}

// Add records the ingredient name with a string value.
func (b *KeyBuilder) Add(name, value string) { b.add(name, []byte(value)) }

// AddBytes records the ingredient name with a byte value, such as file contents.
func (b *KeyBuilder) AddBytes(name string, value []byte) { b.add(name, value) }

// AddKey records the key of another computation, typically an upstream node.
func (b *KeyBuilder) AddKey(name string, k Key) { b.add(name, []byte(k.String())) }

// AddBlob records a content ID, typically an upstream output.
func (b *KeyBuilder) AddBlob(name string, id BlobID) { b.add(name, []byte(id.String())) }

// AddJSON records v in canonical JSON: object keys sorted, insignificant
// whitespace removed, numbers kept as written. Two values that mean the same
// JSON therefore give the same key, whatever Go type or formatting they came in.
func (b *KeyBuilder) AddJSON(name string, v any) error {
	data, err := CanonicalJSON(v)
	if err != nil {
		return fmt.Errorf("key ingredient %q: %w", name, err)
	}
	b.add(name, data)
	return nil
}

// CanonicalJSON encodes v as JSON with sorted object keys and no insignificant
// whitespace, so that equal values have equal encodings.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// A round trip through any sorts keys of values that arrive as
	// json.RawMessage or structs with custom marshalers.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (b *KeyBuilder) add(name string, value []byte) {
	if _, dup := b.sums[name]; dup {
		panic(fmt.Sprintf("cachefs: key ingredient %q added twice", name))
	}
	sum := sha256.Sum256(value)
	b.sums[name] = sum
	b.manifest[name] = manifestValue(value, sum)
}

// manifestMaxLiteral is the longest value stored verbatim in a manifest;
// longer values are represented by a short hash to keep entries small.
const manifestMaxLiteral = 40

func manifestValue(value []byte, sum [sha256.Size]byte) string {
	if len(value) <= manifestMaxLiteral && utf8.Valid(value) && !bytes.HasPrefix(value, []byte("sha256:")) &&
		!bytes.ContainsFunc(value, unicode.IsControl) {
		return string(value)
	}
	return fmt.Sprintf("sha256:%x", sum[:8])
}

// Key returns the key for the ingredients added so far.
func (b *KeyBuilder) Key() Key {
	h := sha256.New()
	writeField := func(p []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	writeField([]byte(keyFormat))
	for _, name := range slices.Sorted(maps.Keys(b.sums)) {
		sum := b.sums[name]
		writeField([]byte(name))
		writeField(sum[:])
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// Manifest returns a copy of the ingredient manifest: name → the value itself
// when short and printable, otherwise "sha256:" and 16 hex digits.
func (b *KeyBuilder) Manifest() map[string]string { return maps.Clone(b.manifest) }

// DiffManifests describes how ingredient set new differs from old, one line per
// changed ingredient, sorted by name: "+name" (added), "-name" (removed) or
// "name: old -> new". It explains why a lookup missed an earlier entry.
func DiffManifests(old, new map[string]string) []string {
	var diffs []string
	names := slices.Sorted(maps.Keys(old))
	for name := range new {
		if _, ok := old[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		o, inOld := old[name]
		n, inNew := new[name]
		switch {
		case !inOld:
			diffs = append(diffs, "+"+name)
		case !inNew:
			diffs = append(diffs, "-"+name)
		case o != n:
			diffs = append(diffs, fmt.Sprintf("%s: %s -> %s", name, o, n))
		}
	}
	return diffs
}
