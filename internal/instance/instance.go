// Package instance keeps WG Punch to one running app per user: the first
// process listens on a socket of its own, and a later start sends it a
// request ("show the window") instead of starting a second app.
//
// The socket is an AF_UNIX socket on every platform (Windows has them since
// Windows 10 1803, and Go's net package speaks them there): one code path,
// no port to guard and no token file. It lives in a directory only the user
// can enter: $XDG_RUNTIME_DIR/wgpunch on Linux, else a 0700 "wgpunch" folder
// under the user's cache directory (%LocalAppData% on Windows). Anyone who
// can connect to it is the same user, and the worst a request can do is
// show a window.
package instance

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Request is what a later start (or the tray) asks the running instance.
type Request struct {
	// Action is ActionShow, ActionUpdate, ActionWizard or ActionQuit.
	Action string `json:"action"`
	// Peer and Update are ActionUpdate's: the address update to show.
	Peer   string `json:"peer,omitempty"`
	Update string `json:"update,omitempty"`
}

// Actions.
const (
	ActionShow   = "show"   // open or raise the window
	ActionUpdate = "update" // open the window showing an address update
	ActionWizard = "wizard" // open the window with the link wizard
	ActionQuit   = "quit"   // close the window (the tray's Quit)
)

// maxRequest bounds a request line; an address update is a few hundred bytes.
const maxRequest = 8 << 10

// ErrRunning is returned by Listen when another instance answers.
var ErrRunning = errors.New("another instance is running")

// Path is the socket for kind ("app", "window") of the app that serves
// key (the daemon socket and state directory it was started with), so two
// apps on different state directories (tests) do not meet.
func Path(kind, key string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, kind+"-"+hex.EncodeToString(sum[:6])+".sock"), nil
}

// Dir is the private directory the sockets live in, made 0700 if missing.
func Dir() (string, error) {
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" || !filepath.IsAbs(base) {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("find a directory for the instance socket: %w", err)
		}
		base = c
	}
	dir := filepath.Join(base, "wgpunch")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("make instance directory: %w", err)
	}
	if err := checkPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// Server is the running instance's end of the socket.
type Server struct {
	ln   net.Listener
	path string
	once sync.Once
}

// Listen makes this process the instance on path. If another instance
// answers there it returns ErrRunning; a socket file left by a process that
// died is removed and taken over.
func Listen(path string) (*Server, error) {
	for attempt := 0; attempt < 2; attempt++ {
		ln, err := net.Listen("unix", path)
		if err == nil {
			return &Server{ln: ln, path: path}, nil
		}
		if Alive(path) {
			return nil, ErrRunning
		}
		// Nobody answers: a stale file. Remove it and try once more.
		if rmErr := os.Remove(path); rmErr != nil && !os.IsNotExist(rmErr) {
			return nil, fmt.Errorf("listen on %s: %w", path, err)
		}
	}
	return nil, fmt.Errorf("listen on %s: another process keeps taking it", path)
}

// Serve answers requests with handle until Close; each connection carries
// one request line and gets "ok" back once handle returns.
func (s *Server) Serve(handle func(Request)) {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			req, err := readRequest(c)
			if err != nil {
				fmt.Fprintf(c, "error: %v\n", err)
				return
			}
			if req.Action != "ping" {
				handle(req)
			}
			fmt.Fprintln(c, "ok")
		}()
	}
}

// Close stops listening and removes the socket file.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.ln.Close()
		os.Remove(s.path)
	})
	return err
}

func readRequest(c net.Conn) (Request, error) {
	var req Request
	line, err := bufio.NewReader(&limitedReader{c, maxRequest}).ReadString('\n')
	if err != nil {
		return req, fmt.Errorf("read request: %w", err)
	}
	if err := json.Unmarshal([]byte(line), &req); err != nil {
		return req, fmt.Errorf("bad request: %w", err)
	}
	switch req.Action {
	case "ping", ActionShow, ActionUpdate, ActionWizard, ActionQuit:
		return req, nil
	}
	return req, fmt.Errorf("unknown action %q", req.Action)
}

type limitedReader struct {
	c net.Conn
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("request too long")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.c.Read(p)
	l.n -= n
	return n, err
}

// Send asks the instance on path to do req and waits for it to say ok.
func Send(ctx context.Context, path string, req Request) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("reach the running WG Punch: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("send to the running WG Punch: %w", err)
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the running WG Punch's answer: %w", err)
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return fmt.Errorf("the running WG Punch said: %s", reply)
	}
	return nil
}

// Alive reports whether an instance answers on path.
func Alive(path string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return Send(ctx, path, Request{Action: "ping"}) == nil
}
