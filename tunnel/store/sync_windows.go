package store

import "errors"

// errChmodUnsupported: Windows ignores Unix permission bits except the
// read-only flag; files in the state directory inherit its ACL.
var errChmodUnsupported = errors.New("chmod unsupported")

// syncDir is a no-op: Windows cannot fsync a directory and MoveFileEx is
// durable once it returns (os.Rename uses MOVEFILE_REPLACE_EXISTING).
func syncDir(dir string) error { return nil }
