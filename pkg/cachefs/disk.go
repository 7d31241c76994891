package cachefs

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// LayoutVersion is written to the VERSION file of a cache directory. A
// directory with a different version is refused rather than misread.
const LayoutVersion = "fastdag-cache-layout/1"

const (
	entrySuffix = "-a" // action entry files, as in cmd/go
	blobSuffix  = "-d" // output data files, as in cmd/go
	tempPrefix  = ".tmp-"
	versionFile = "VERSION"
	readmeFile  = "README"
	tagFile     = "CACHEDIR.TAG"
)

const readmeText = `This directory holds cached results of fastdag workflow nodes.
It can be deleted at any time: fastdag recomputes what it needs.
Use "fastdag cache ls", "fastdag cache gc" and "fastdag cache clear"
rather than editing it by hand while runs are active.

Layout (see VERSION):
  xx/<key>-a    entry: JSON record of one node run, keyed by the SHA-256
                of its ingredients (command, inputs, upstream outputs ...);
                the file mtime is its last use
  xx/<id>-d     blob: one output, named by the SHA-256 of its content
  locks/        lock files coordinating concurrent fastdag processes
xx is the first two hex digits of the name.
`

// CACHEDIR.TAG marks the directory for backup tools (https://bford.info/cachedir/).
const tagText = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by fastdag.\n"

// Disk is a Backend storing each entry and blob as one file under a
// directory, fanned out over 256 subdirectories by the first byte of the name.
//
// Every write goes to a temporary file in the destination directory, is
// fsynced and then renamed into place, so readers and crashes never expose a
// partial file. Blobs are content-addressed, so concurrent writers of the same
// blob write identical bytes and the last rename wins harmlessly.
type Disk struct {
	dir string
}

// OpenDisk opens the cache directory dir, creating and initialising it if
// needed. It fails if dir holds a cache of another layout version.
func OpenDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("open cache: %w", err)
	}
	d := &Disk{dir: dir}
	vpath := filepath.Join(dir, versionFile)
	switch data, err := os.ReadFile(vpath); {
	case err == nil:
		if v := strings.TrimSpace(string(data)); v != LayoutVersion {
			return nil, fmt.Errorf("open cache %s: %w: %q, want %q", dir, ErrLayout, v, LayoutVersion)
		}
		return d, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open cache: %w", err)
	}
	// Fresh directory. Concurrent initialisers write identical files.
	// The fan-out directories are created as they are first written.
	for _, f := range []struct{ name, text string }{
		{readmeFile, readmeText},
		{tagFile, tagText},
		{versionFile, LayoutVersion + "\n"}, // last: marks initialisation complete
	} {
		if err := writeFileAtomic(filepath.Join(dir, f.name), strings.NewReader(f.text), time.Now(), nil); err != nil {
			return nil, fmt.Errorf("open cache: %w", err)
		}
	}
	return d, nil
}

// Dir returns the cache directory.
func (d *Disk) Dir() string { return d.dir }

func (d *Disk) path(id [32]byte, suffix string) string {
	name := fmt.Sprintf("%x", id[:])
	return filepath.Join(d.dir, name[:2], name+suffix)
}

// EntryPath returns the file holding the entry for key, for messages.
func (d *Disk) EntryPath(key Key) string { return d.path(key, entrySuffix) }

// BlobPath returns the file holding blob id.
func (d *Disk) BlobPath(id BlobID) string { return d.path(id, blobSuffix) }

// GetEntry implements Backend.
func (d *Disk) GetEntry(key Key) ([]byte, Info, error) {
	name := d.EntryPath(key)
	f, err := os.Open(name)
	if err != nil {
		return nil, Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, Info{}, err
	}
	if st.Size() > maxEntrySize {
		return nil, Info{}, fmt.Errorf("read %s: %w: entry larger than %d bytes", name, ErrCorrupt, maxEntrySize)
	}
	// Read one byte past the stat size to notice a file that grew.
	data := make([]byte, st.Size()+1)
	n, err := io.ReadFull(f, data)
	if err != io.ErrUnexpectedEOF && err != io.EOF {
		if err == nil {
			err = fmt.Errorf("%w: file changed while reading", ErrCorrupt)
		}
		return nil, Info{}, fmt.Errorf("read %s: %w", name, err)
	}
	return data[:n], Info{Name: name, Size: int64(n), ModTime: st.ModTime()}, nil
}

// PutEntry implements Backend. The directory is fsynced after the rename so
// that an entry reported as stored survives a power cut; blobs need no such
// care because a lost blob only turns the entry into a verified miss.
func (d *Disk) PutEntry(key Key, data []byte, mtime time.Time) error {
	return d.write(d.EntryPath(key), bytes.NewReader(data), mtime, nil, true)
}

// StatEntry implements Backend.
func (d *Disk) StatEntry(key Key) (Info, error) { return statInfo(d.EntryPath(key)) }

// TouchEntry implements Backend.
func (d *Disk) TouchEntry(key Key, mtime time.Time) error {
	return os.Chtimes(d.EntryPath(key), mtime, mtime)
}

// DeleteEntry implements Backend.
func (d *Disk) DeleteEntry(key Key) error { return os.Remove(d.EntryPath(key)) }

// ListEntries implements Backend.
func (d *Disk) ListEntries(fn func(Key, Info) error) error {
	return d.list(entrySuffix, func(id [32]byte, info Info) error { return fn(Key(id), info) })
}

// OpenBlob implements Backend.
func (d *Disk) OpenBlob(id BlobID) (io.ReadCloser, Info, error) {
	name := d.BlobPath(id)
	f, err := os.Open(name)
	if err != nil {
		return nil, Info{}, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	return f, Info{Name: name, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// PutBlob implements Backend.
func (d *Disk) PutBlob(id BlobID, r io.Reader, mtime time.Time) error {
	name := d.BlobPath(id)
	return d.write(name, r, mtime, func(sum [32]byte) error {
		if sum != id {
			return fmt.Errorf("write %s: content hashes to %x", name, sum)
		}
		return nil
	}, false)
}

// StatBlob implements Backend.
func (d *Disk) StatBlob(id BlobID) (Info, error) { return statInfo(d.BlobPath(id)) }

// TouchBlob implements Backend.
func (d *Disk) TouchBlob(id BlobID, mtime time.Time) error {
	return os.Chtimes(d.BlobPath(id), mtime, mtime)
}

// DeleteBlob implements Backend.
func (d *Disk) DeleteBlob(id BlobID) error { return os.Remove(d.BlobPath(id)) }

// ListBlobs implements Backend.
func (d *Disk) ListBlobs(fn func(BlobID, Info) error) error {
	return d.list(blobSuffix, func(id [32]byte, info Info) error { return fn(BlobID(id), info) })
}

func statInfo(name string) (Info, error) {
	st, err := os.Stat(name)
	if err != nil {
		return Info{}, err
	}
	return Info{Name: name, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// write stores r at name atomically, fsyncing the directory if asked.
func (d *Disk) write(name string, r io.Reader, mtime time.Time, check func([32]byte) error, syncDir bool) error {
	if err := writeFileAtomic(name, r, mtime, check); err != nil {
		return err
	}
	if syncDir {
		return syncDirOf(name)
	}
	return nil
}

// writeFileAtomic writes r to a temporary file next to name, checks its hash
// with check (if not nil), fsyncs it, sets its mtime and renames it to name.
func writeFileAtomic(name string, r io.Reader, mtime time.Time, check func([32]byte) error) (err error) {
	f, tmp, err := createTemp(name)
	if errors.Is(err, fs.ErrNotExist) {
		// Fan-out directories are created on first use (or again, if
		// someone removed one).
		if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
			return err
		}
		f, tmp, err = createTemp(name)
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if check != nil {
		var sum [32]byte
		h.Sum(sum[:0])
		if err := check(sum); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// createTemp creates a new temporary file next to name. Unlike os.CreateTemp
// it honours the umask (0666 like os.WriteFile), so a cache shared by a group
// stays readable.
func createTemp(name string) (*os.File, string, error) {
	for range 100 {
		var rnd [8]byte
		rand.Read(rnd[:])
		tmp := filepath.Join(filepath.Dir(name), fmt.Sprintf("%s%s-%x", tempPrefix, filepath.Base(name), rnd))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("create temporary file for %s: too many collisions", name)
}

func syncDirOf(name string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; rename is durable enough
	}
	dir, err := os.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(name), err)
	}
	return nil
}

// list calls fn for each file with the given suffix. Each subdirectory is read
// completely before fn runs, so fn may delete files.
func (d *Disk) list(suffix string, fn func([32]byte, Info) error) error {
	for i := range 256 {
		sub := filepath.Join(d.dir, fmt.Sprintf("%02x", i))
		des, err := os.ReadDir(sub)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, de := range des {
			id, ok := parseFileName(de.Name(), suffix)
			if !ok {
				continue
			}
			fi, err := de.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since ReadDir
			}
			if err != nil {
				return err
			}
			if err := fn(id, Info{Name: filepath.Join(sub, de.Name()), Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseFileName(name, suffix string) ([32]byte, bool) {
	var id [32]byte
	hexPart, ok := strings.CutSuffix(name, suffix)
	if !ok || decodeHex(id[:], []byte(hexPart), "name") != nil {
		return id, false
	}
	return id, true
}

// sweepTemp removes temporary files older than cutoff: leftovers of writers
// that crashed between create and rename. Younger ones may still be in use.
func (d *Disk) sweepTemp(cutoff time.Time) (removed int, err error) {
	for i := range 256 {
		sub := filepath.Join(d.dir, fmt.Sprintf("%02x", i))
		des, rerr := os.ReadDir(sub)
		if rerr != nil {
			continue
		}
		for _, de := range des {
			if !strings.HasPrefix(de.Name(), tempPrefix) {
				continue
			}
			fi, ierr := de.Info()
			if ierr != nil || !fi.ModTime().Before(cutoff) {
				continue
			}
			if rerr := os.Remove(filepath.Join(sub, de.Name())); rerr == nil {
				removed++
			} else if !errors.Is(rerr, fs.ErrNotExist) && err == nil {
				err = rerr
			}
		}
	}
	return removed, err
}
