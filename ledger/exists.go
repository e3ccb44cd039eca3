package ledger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Exists reports whether path holds a ledger, or at least content that
// Open would take for one: false when there is no file, or an empty file
// whose content is not in its WAL either (a new ledger whose process was
// killed keeps it all there). A run that finds no ledger checks, before
// Open creates one, that no earlier run is there to pay again.
func Exists(path string) (bool, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", path, err)
	}
	if st.Size() > 0 {
		return true, nil
	}
	wal, err := os.Stat(path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", path+"-wal", err)
	}
	return wal.Size() > 0, nil
}
