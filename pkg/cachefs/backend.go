package cachefs

import (
	"io"
	"time"
)

// A Backend stores entries and blobs. It is deliberately dumb: it moves bytes
// and reports sizes and modification times, while Cache decides what is a hit,
// what is stale and what to delete. Disk is the local implementation; a remote
// one (object store, HTTP) only needs these operations.
//
// Absent objects are reported with an error satisfying
// errors.Is(err, fs.ErrNotExist). Puts must be atomic: a reader sees the old
// object, the new one, or none, never a part.
type Backend interface {
	// GetEntry returns the encoded entry stored under key.
	GetEntry(key Key) ([]byte, Info, error)
	// PutEntry stores an encoded entry, replacing any previous one, and sets
	// its modification (last use) time to mtime.
	PutEntry(key Key, data []byte, mtime time.Time) error
	StatEntry(key Key) (Info, error)
	// TouchEntry sets the entry's last-use time.
	TouchEntry(key Key, mtime time.Time) error
	DeleteEntry(key Key) error
	// ListEntries calls fn for every stored entry, in no particular order,
	// stopping at the first error fn returns.
	ListEntries(fn func(Key, Info) error) error

	// OpenBlob opens the blob for reading; Info.Size is its stored size.
	OpenBlob(id BlobID) (io.ReadCloser, Info, error)
	// PutBlob stores the content read from r under id with modification
	// time mtime. It fails, storing nothing, if the content does not hash
	// to id.
	PutBlob(id BlobID, r io.Reader, mtime time.Time) error
	StatBlob(id BlobID) (Info, error)
	TouchBlob(id BlobID, mtime time.Time) error
	DeleteBlob(id BlobID) error
	ListBlobs(fn func(BlobID, Info) error) error
}

// Info describes a stored object.
type Info struct {
	// Name locates the object for humans: a file path for Disk.
	Name    string
	Size    int64
	ModTime time.Time
}
