package cachefs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// A VerifyReport lists what Verify checked, found and removed.
type VerifyReport struct {
	Entries, Blobs               int // checked
	RemovedEntries, RemovedBlobs int
	// Problems describes each damaged file, naming its path.
	Problems []error
}

// Verify reads every blob and entry, checks blob contents against their
// names and entries against their blobs, and removes whatever is damaged:
// unreadable entries, entries of another format, entries naming a missing or
// damaged blob, and damaged blobs. Expired entries are not damage; GC removes
// them. Verify holds the maintenance lock exclusively, so Puts wait for it.
func (c *Cache) Verify(ctx context.Context) (*VerifyReport, error) {
	unlock, err := c.locks.lockMaintenance(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("verify cache: %w", err)
	}
	defer unlock()
	st, err := c.scan()
	if err != nil {
		return nil, fmt.Errorf("verify cache: %w", err)
	}
	rep := &VerifyReport{Entries: len(st.entries), Blobs: len(st.blobs)}
	problem := func(err error) { rep.Problems = append(rep.Problems, err) }

	for id, info := range st.blobs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		_, err := c.readBlob(BlobRef{ID: id, Size: info.Size})
		if err == nil {
			continue
		}
		problem(err)
		delete(st.blobs, id)
		if err := c.b.DeleteBlob(id); err != nil && !errors.Is(err, fs.ErrNotExist) {
			problem(fmt.Errorf("verify cache: %w", err))
		} else {
			rep.RemovedBlobs++
		}
	}

	for _, it := range st.entries {
		bad := it.err
		if it.entry != nil {
			for name, ref := range it.entry.Outputs {
				info, ok := st.blobs[ref.ID]
				if !ok {
					bad = fmt.Errorf("cache entry %s: output %q: %w: blob %s missing", it.info.Name, name, ErrCorrupt, ref.ID)
					break
				}
				if info.Size != ref.Size {
					bad = fmt.Errorf("cache entry %s: output %q: %w: blob %s has %d bytes, want %d", it.info.Name, name, ErrCorrupt, info.Name, info.Size, ref.Size)
					break
				}
			}
		}
		if bad == nil {
			continue
		}
		problem(bad)
		if err := c.b.DeleteEntry(it.key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			problem(fmt.Errorf("verify cache: %w", err))
		} else {
			rep.RemovedEntries++
		}
	}
	return rep, nil
}
