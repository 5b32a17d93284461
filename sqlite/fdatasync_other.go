//go:build !linux

package sqlite

import "os"

// fdatasync flushes f; where the system has no fdatasync, a full fsync does.
func fdatasync(f *os.File) error { return f.Sync() }
