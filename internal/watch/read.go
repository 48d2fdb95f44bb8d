package watch

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// TooLargeError is a file longer than the limit given to [ReadFile]. It is
// a plain value.
type TooLargeError struct {
	Size  int64 // the size found, or limit+1 when the file grew while read
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("source too large (%d bytes, max %d)", e.Size, e.Limit)
}

// ReadFile reads the regular file at name, which must be at most limit
// bytes long, and returns its bytes and the status of the file it read. It
// never reads more than limit+1 bytes: a file found larger, by its status
// or while reading (it grew meanwhile), gets a *[TooLargeError]. Anything
// but a regular file (a FIFO, a device) is refused without blocking on it.
//
// ReadFile is safe for concurrent use.
func ReadFile(name string, limit int64) ([]byte, os.FileInfo, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer. It changes nothing for regular files.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, fmt.Errorf("%s: not a regular file", name)
	}
	if fi.Size() > limit {
		return nil, fi, &TooLargeError{Size: fi.Size(), Limit: limit}
	}
	data := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(data[len(data):min(int64(cap(data)), limit+1)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, fi, &TooLargeError{Size: limit + 1, Limit: limit}
		}
		if err == io.EOF {
			return data, fi, nil
		}
		if err != nil {
			return nil, fi, err
		}
		if len(data) == cap(data) { // it grew since the stat
			data = append(data, 0)[:len(data)]
		}
	}
}
