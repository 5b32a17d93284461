package main

import (
	"errors"
	"os"
	"path/filepath"
)

// errDataInUse: another process writes the data directory's tenant logs.
var errDataInUse = errors.New("the data directory is in use by a running vakt serve; stop it first, or make the change in the web tool (Konton)")

// lockData takes the data directory's writer lock: an embedded tenant log has one writing
// process, which keeps its tail and tree in memory, so `vakt serve` holds the lock while it
// runs and `vakt user` takes it to record a change in a tenant's log. errDataInUse when another
// process holds it. On PostgreSQL no lock is needed: any number of nodes write the logs.
func lockData(dataDir string) (unlock func(), err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "writer.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := tryLock(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
