// Package ipc carries a control.Controller over the daemon's Unix socket:
// the Server (server.go, with who may call what), the Client (client.go),
// the wire format and its error codes (wire.go), the socket itself
// (socket.go), peer credentials (peercred*.go), the daemon's wiring
// (daemon.go) and Connect (connect.go), which decides between the daemon
// and a local control.Service.
package ipc

import (
	"errors"
	"net/http"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// The IPC protocol: HTTP/1.1 over a Unix socket, JSON bodies. Errors are
// {"error": message, "code": code} with a matching HTTP status; the Client
// turns the code back into the sentinel error, so errors.Is works across
// the socket.

type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// PingInfo is what GET /v1/ping answers.
type PingInfo struct {
	Version  string `json:"version"`
	StateDir string `json:"state_dir"`
	PID      int    `json:"pid"`
	Engine   bool   `json:"engine"` // the daemon can bring tunnels up
	Group    string `json:"group"`  // members may change tunnels
	// Privileged says whether the caller may change tunnels.
	Privileged bool `json:"privileged"`
}

type nameBody struct {
	Name string `json:"name"`
}

type renameBody struct {
	Old string `json:"old"`
	New string `json:"new"`
}

type portBody struct {
	Name string `json:"name"`
	Port uint16 `json:"port"`
}

type exportBody struct {
	Name       string `json:"name"`
	PrivateKey bool   `json:"private_key"`
}

type exportResult struct {
	Config []byte `json:"config"`
}

type portResult struct {
	Port uint16 `json:"port"`
}

const codeInvalid = "invalid"

var errCodes = []struct {
	code   string
	err    error
	status int
}{
	{"not_found", control.ErrNotFound, http.StatusNotFound},
	{"exists", control.ErrExists, http.StatusConflict},
	{"need_daemon", control.ErrNeedDaemon, http.StatusServiceUnavailable},
	{"permission", control.ErrPermission, http.StatusForbidden},
	{"port_in_use", control.ErrPortInUse, http.StatusConflict},
	{codeInvalid, control.ErrInvalidInput, http.StatusBadRequest},
	{"busy", control.ErrBusy, http.StatusTooManyRequests},
	// Another WG Punch holds the state directory's lock (the message names it).
	{"locked", store.ErrLocked, http.StatusLocked},
}

func errCode(err error) (string, int) {
	for _, c := range errCodes {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return "internal", http.StatusInternalServerError
}

// remoteError is an error with a wire code: one that came over the
// socket, or one the Server makes itself (a bad request body).
type remoteError struct {
	code string
	msg  string
}

func (e *remoteError) Error() string { return e.msg }

func (e *remoteError) Is(target error) bool {
	for _, c := range errCodes {
		if c.code == e.code && c.err == target {
			return true
		}
	}
	return false
}
