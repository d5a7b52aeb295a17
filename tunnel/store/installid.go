package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// installIDFile holds the installation ID (not a secret; 0600 like the rest).
const installIDFile = "install-id"

// InstallID returns this installation's ID: 16 hex digits, random, made
// the first time and kept in the state directory (install-id, 0600, written
// atomically and never replaced while it holds a valid ID). LAN
// announcements carry it, so two machines with the same host name are told
// apart. A file that does not hold a valid ID is replaced with a new one.
func (s *Store) InstallID() (string, error) {
	path := filepath.Join(s.dir, installIDFile)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := readInstallID(path)
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, fs.ErrNotExist):
		id = newInstallID()
		err = s.w.createFile(path, []byte(id+"\n"), filePerm)
		if errors.Is(err, fs.ErrExist) {
			return readInstallID(path) // another process made it first
		}
	case errors.Is(err, errBadInstallID):
		id = newInstallID()
		err = s.w.writeFile(path, []byte(id+"\n"), filePerm)
	}
	if err != nil {
		return "", fmt.Errorf("installation ID: %w", err)
	}
	return id, nil
}

func newInstallID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var errBadInstallID = errors.New("not an installation ID")

// readInstallID reads and checks path.
func readInstallID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if _, herr := hex.DecodeString(id); herr != nil || len(id) != 16 {
		return "", fmt.Errorf("%s: %w", path, errBadInstallID)
	}
	return id, nil
}
