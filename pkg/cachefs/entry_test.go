package cachefs

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func sampleEntry() *Entry {
	return &Entry{
		Format:      EntryFormat,
		Key:         testKey("sample"),
		Workflow:    "wf",
		Node:        "build",
		Created:     time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC),
		Expires:     time.Date(2030, 1, 3, 3, 4, 5, 6, time.UTC),
		Manifest:    map[string]string{"kind": "shell", "command": "sha256:0011223344556677"},
		KeyedInputs: map[string]json.RawMessage{"user": json.RawMessage(`"ann"`), "n": json.RawMessage(`3`)},
		Outputs: map[string]BlobRef{
			"stdout": {ID: BlobIDOf([]byte("hi\n")), Size: 3},
			"count":  {ID: BlobIDOf([]byte("1")), Size: 1},
		},
		Size: 4,
	}
}

func TestEntryEncodeDecode(t *testing.T) {
	e := sampleEntry()
	data, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := got.Encode()
	if !bytes.Equal(data, again) {
		t.Errorf("re-encoding differs:\n%s\n%s", data, again)
	}
	if got.Key != e.Key || !got.Expires.Equal(e.Expires) || got.Outputs["stdout"] != e.Outputs["stdout"] {
		t.Errorf("decoded %+v", got)
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	valid, _ := sampleEntry().Encode()
	for name, tc := range map[string]struct {
		data string
		want error
	}{
		"empty":        {"", ErrCorrupt},
		"not json":     {"v1 abc", ErrCorrupt},
		"trailing":     {string(valid) + "{}", ErrCorrupt},
		"no format":    {`{"key": "00"}`, ErrFormat},
		"other format": {`{"format": "fastdag-cache-entry/2"}`, ErrFormat},
		"bad key":      {`{"format": "fastdag-cache-entry/1", "key": "xyz", "created": "2030-01-01T00:00:00Z"}`, ErrCorrupt},
		"no created":   {`{"format": "fastdag-cache-entry/1", "key": "` + testKey("x").String() + `"}`, ErrCorrupt},
		"size mismatch": {`{"format": "fastdag-cache-entry/1", "key": "` + testKey("x").String() +
			`", "created": "2030-01-01T00:00:00Z", "size": 5}`, ErrCorrupt},
		"negative size": {`{"format": "fastdag-cache-entry/1", "key": "` + testKey("x").String() +
			`", "created": "2030-01-01T00:00:00Z", "outputs": {"a": {"id": "` + BlobIDOf(nil).String() + `", "size": -1}}, "size": -1}`, ErrCorrupt},
	} {
		if _, err := DecodeEntry([]byte(tc.data)); !errors.Is(err, tc.want) {
			t.Errorf("%s: DecodeEntry = %v, want %v", name, err, tc.want)
		}
	}
}

// FuzzDecodeEntry checks that the entry parser never panics and that any
// entry it accepts re-encodes to a fixed point.
func FuzzDecodeEntry(f *testing.F) {
	valid, _ := sampleEntry().Encode()
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte(`{"format":"fastdag-cache-entry/1","key":"` + testKey("x").String() + `","created":"2030-01-01T00:00:00+05:30","outputs":{},"size":0}`))
	f.Add([]byte(`{"format":"fastdag-cache-entry/1","key":"` + testKey("x").String() + `","created":"2030-01-01T00:00:00Z","outputs":null,"size":0,"keyed_inputs":{"a":{"z":1,  "b":[ ]}},"manifest":{}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEntry(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFormat) {
				t.Fatalf("DecodeEntry error %v wraps neither ErrCorrupt nor ErrFormat", err)
			}
			return
		}
		enc1, err := e.Encode()
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		e2, err := DecodeEntry(enc1)
		if err != nil {
			t.Fatalf("encoded entry does not decode: %v\n%s", err, enc1)
		}
		enc2, err := e2.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc1, enc2)
		}
	})
}
