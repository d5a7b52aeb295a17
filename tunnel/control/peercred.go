package control

// Cred is who is on the other end of a socket connection.
type Cred struct {
	Known bool // false: the OS could not tell
	UID   uint32
	GID   uint32
	PID   int32
}
