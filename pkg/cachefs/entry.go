package cachefs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// EntryFormat is the value of the "format" field of every entry this version
// writes. Entries with any other value are misses, never reinterpreted.
const EntryFormat = "fastdag-cache-entry/1"

// maxEntrySize bounds how much of an entry file is read, so a damaged or
// hostile file cannot make a lookup allocate without limit.
const maxEntrySize = 16 << 20

// An Entry is the stored record of one computation: what it was (for ls,
// pattern invalidation and explaining misses) and which blobs hold its outputs.
type Entry struct {
	Format   string    `json:"format"`
	Key      Key       `json:"key"`
	Workflow string    `json:"workflow,omitempty"`
	Node     string    `json:"node,omitempty"`
	Created  time.Time `json:"created"`
	// Expires is when the entry stops being a hit; zero means never.
	Expires time.Time `json:"expires,omitzero"`
	// Manifest lists the key ingredients (see KeyBuilder.Manifest).
	Manifest map[string]string `json:"manifest,omitempty"`
	// KeyedInputs holds the input values the key was built from, for
	// "--match k=v" invalidation (see MatchInputs).
	KeyedInputs map[string]json.RawMessage `json:"keyed_inputs,omitempty"`
	// Outputs maps output names (named outputs plus the default/stdout
	// output, named by the engine) to their blobs.
	Outputs map[string]BlobRef `json:"outputs"`
	// Size is the sum of the output sizes.
	Size int64 `json:"size"`

	// LastUsed is not stored in the file: like cmd/go, the entry file's
	// mtime records the last use, so a hit costs no rewrite. It is filled
	// in by Get and List.
	LastUsed time.Time `json:"-"`
}

// A BlobRef names one output blob and its expected size.
type BlobRef struct {
	ID   BlobID `json:"id"`
	Size int64  `json:"size"`
}

// Expired reports whether the entry is past its expiry time at now.
func (e *Entry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// MatchInputs reports whether every key=value pair in match agrees with the
// entry's keyed inputs. A value matches a JSON string input equal to it, or
// any other JSON input whose compact encoding equals it (so "n=3" matches 3
// and "debug=true" matches true).
func (e *Entry) MatchInputs(match map[string]string) bool {
	for k, want := range match {
		raw, ok := e.KeyedInputs[k]
		if !ok {
			return false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s != want {
				return false
			}
			continue
		}
		var buf bytes.Buffer
		if json.Compact(&buf, raw) != nil || buf.String() != want {
			return false
		}
	}
	return true
}

// DecodeEntry parses and checks an entry file. It rejects anything that is
// not a well-formed entry of EntryFormat; it does not check expiry or blobs.
// The error wraps ErrCorrupt, or ErrFormat for a readable entry of another
// format version.
func DecodeEntry(data []byte) (*Entry, error) {
	if len(data) > maxEntrySize {
		return nil, fmt.Errorf("%w: entry larger than %d bytes", ErrCorrupt, maxEntrySize)
	}
	e := new(Entry)
	if err := json.Unmarshal(data, e); err != nil || e.Format != EntryFormat {
		// Tell a damaged entry from a readable one of another format
		// version, whose fields may not even fit this version's types.
		var probe struct {
			Format string `json:"format"`
		}
		if perr := json.Unmarshal(data, &probe); perr != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, perr)
		}
		if probe.Format != EntryFormat {
			return nil, fmt.Errorf("%w %q (want %q)", ErrFormat, probe.Format, EntryFormat)
		}
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	// Normalise so that decode∘encode is the identity on decoded entries.
	e.Created = e.Created.UTC()
	e.Expires = e.Expires.UTC()
	return e, nil
}

func (e *Entry) check() error {
	if e.Key == (Key{}) {
		return errors.New("missing key")
	}
	if e.Created.IsZero() {
		return errors.New("missing creation time")
	}
	var total int64
	for name, ref := range e.Outputs {
		if ref.Size < 0 {
			return fmt.Errorf("output %q: negative size", name)
		}
		if total > math.MaxInt64-ref.Size {
			return errors.New("total size overflows")
		}
		total += ref.Size
	}
	if total != e.Size {
		return fmt.Errorf("size %d does not match outputs total %d", e.Size, total)
	}
	return nil
}

// Encode returns the file form of the entry: indented JSON, so that an entry
// can be inspected with cat, with map keys in sorted order.
func (e *Entry) Encode() ([]byte, error) {
	if e.Format != EntryFormat {
		return nil, fmt.Errorf("encode entry: format %q, want %q", e.Format, EntryFormat)
	}
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	return buf.Bytes(), nil
}
