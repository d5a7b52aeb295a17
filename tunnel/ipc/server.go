package ipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"

	"github.com/wgpunch/wgpunch/internal/version"
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Controller does the work (normally the daemon's *Service).
	Controller control.Controller
	// Group's members (and root) may change tunnels; "": DefaultGroup.
	Group string
	// StateDir and Engine are reported by /v1/ping.
	StateDir string
	Engine   bool
	// Authorize overrides the uid/group check for calls that change
	// tunnels or reveal secrets; it returns nil to allow. Optional.
	Authorize func(c Cred) error
	// Logf receives diagnostics; never keys. nil: discard.
	Logf func(format string, args ...any)
	// MaxWatchPerUser and MaxWatch cap concurrent /v1/watch streams per
	// uid and in total; 0: DefaultMaxWatchPerUser, DefaultMaxWatch.
	// Streams beyond a cap get HTTP 429 (ErrBusy).
	MaxWatchPerUser, MaxWatch int
	// MaxConnsPerUser and MaxConns cap open socket connections per uid and
	// in total, checked at accept: one over a cap is closed at once.
	// 0: DefaultMaxConnsPerUser, DefaultMaxConns.
	MaxConnsPerUser, MaxConns int
	// ReadHeaderTimeout (a new connection's request headers), ReadTimeout
	// (a whole request, body included), WriteTimeout (one response or one
	// watch event, from when it starts) and IdleTimeout (a kept-alive
	// connection between requests); 0: the Default... values.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Default caps on concurrent watch streams (each holds a goroutine and a
// status ticker in the daemon).
const (
	DefaultMaxWatchPerUser = 8
	DefaultMaxWatch        = 64
)

// Server serves a Controller over HTTP+JSON on a Unix socket.
//
// Privileges: every local user who can connect may call ping, list, show,
// status, watch, free-port, lans, GET settings and export without the private
// key (nothing secret). Calls that change tunnels or settings or reveal
// secrets — invite, accept (and its preview), remove, rename, set-port, natcheck, up, down,
// POST settings, and export with the private key — are allowed only to
// uid 0 and to members of Group: the caller's primary gid (SO_PEERCRED)
// or a supplementary group it held when it connected (SO_PEERGROUPS; on kernels without it, the user's groups in
// the group database). Nothing is read from /proc/PID, whose PID may belong
// to another process by then. Others get 403 "permission denied".
type Server struct {
	opts ServerOptions
	hs   *http.Server

	watchMu    sync.Mutex
	watchByUID map[string]int // "uid" or "unknown" -> open streams
	watchAll   int

	lnMu sync.Mutex
	ln   *capListener // the last one Serve wrapped (tests)
}

type credKey struct{}

// NewServer returns a Server; call Serve with a listener from Listen.
func NewServer(opts ServerOptions) *Server {
	if opts.Group == "" {
		opts.Group = DefaultGroup
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.MaxWatchPerUser <= 0 {
		opts.MaxWatchPerUser = DefaultMaxWatchPerUser
	}
	if opts.MaxWatch <= 0 {
		opts.MaxWatch = DefaultMaxWatch
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.MaxConnsPerUser, DefaultMaxConnsPerUser)
	def(&opts.MaxConns, DefaultMaxConns)
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&opts.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	defDur(&opts.ReadTimeout, DefaultReadTimeout)
	defDur(&opts.WriteTimeout, DefaultWriteTimeout)
	defDur(&opts.IdleTimeout, DefaultIdleTimeout)
	s := &Server{opts: opts, watchByUID: map[string]int{}}
	mux := http.NewServeMux()
	s.routes(mux)
	base, cancel := context.WithCancel(context.Background())
	s.hs = &http.Server{
		Handler:           withDeadlines(mux, opts.WriteTimeout),
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		// No http.Server WriteTimeout: it would run from the end of the
		// request headers, cutting slow calls and every watch stream.
		// withDeadlines and watch set write deadlines instead.
		IdleTimeout: opts.IdleTimeout,
		BaseContext: func(net.Listener) context.Context { return base },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, credKey{}, connCred(c))
		},
	}
	s.hs.RegisterOnShutdown(cancel) // ends watch streams
	return s
}

// Serve answers requests on ln until Shutdown.
// Connections over MaxConnsPerUser or MaxConns are closed as accepted.
func (s *Server) Serve(ln net.Listener) error {
	cl := newCapListener(ln, s.opts.MaxConnsPerUser, s.opts.MaxConns, s.opts.Logf)
	s.lnMu.Lock()
	s.ln = cl
	s.lnMu.Unlock()
	err := s.hs.Serve(cl)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, ends watch streams and waits for calls to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.hs.Shutdown(ctx)
}

// authorize returns nil if the caller may change tunnels.
func (s *Server) authorize(r *http.Request) error {
	c, _ := r.Context().Value(credKey{}).(Cred)
	if s.opts.Authorize != nil {
		return s.opts.Authorize(c)
	}
	if !c.Known {
		return fmt.Errorf("%w: cannot tell which user is calling, so only read-only requests are allowed", control.ErrPermission)
	}
	if c.UID == 0 {
		return nil
	}
	who := strconv.FormatUint(uint64(c.UID), 10)
	if u, err := user.LookupId(who); err == nil {
		who = u.Username
	}
	g, err := user.LookupGroup(s.opts.Group)
	if err != nil {
		return fmt.Errorf("%w: only root may change tunnels, because group %q does not exist; an administrator can allow you with: sudo groupadd --system %s && sudo usermod -aG %s %s (then log out and in)",
			control.ErrPermission, s.opts.Group, s.opts.Group, s.opts.Group, who)
	}
	gid, err := strconv.ParseUint(g.Gid, 10, 32)
	if err == nil && inGroup(c, uint32(gid)) {
		return nil
	}
	return fmt.Errorf("%w: only root and members of group %q may change tunnels; ask an administrator to run: sudo usermod -aG %s %s (then log out and in)",
		control.ErrPermission, s.opts.Group, s.opts.Group, who)
}

func (s *Server) routes(mux *http.ServeMux) {
	ctl := s.opts.Controller
	read := func(pattern string, h func(w http.ResponseWriter, r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.reply(w, r, h) })
	}
	write := func(pattern string, h func(w http.ResponseWriter, r *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := s.authorize(r); err != nil {
				s.logDenied(r, err)
				writeErr(w, err)
				return
			}
			s.reply(w, r, h)
		})
	}

	read("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) (any, error) {
		return &PingInfo{
			Version:    version.Version,
			StateDir:   s.opts.StateDir,
			PID:        os.Getpid(),
			Engine:     s.opts.Engine,
			Group:      s.opts.Group,
			Privileged: s.authorize(r) == nil,
		}, nil
	})
	read("GET /v1/list", func(w http.ResponseWriter, r *http.Request) (any, error) {
		return ctl.List(r.Context())
	})
	read("GET /v1/show", func(w http.ResponseWriter, r *http.Request) (any, error) {
		return ctl.Show(r.Context(), r.URL.Query().Get("name"))
	})
	read("GET /v1/status", func(w http.ResponseWriter, r *http.Request) (any, error) {
		return ctl.Status(r.Context(), r.URL.Query().Get("name"))
	})
	read("GET /v1/free-port", func(w http.ResponseWriter, r *http.Request) (any, error) {
		p, err := ctl.FreePort(r.Context())
		return &portResult{Port: p}, err
	})
	read("GET /v1/lans", func(w http.ResponseWriter, r *http.Request) (any, error) {
		return ctl.LocalLANs(r.Context())
	})
	read("POST /v1/export", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var b exportBody
		if err := decodeBody(r, &b); err != nil {
			return nil, err
		}
		if b.PrivateKey {
			if err := s.authorize(r); err != nil {
				s.logDenied(r, err)
				return nil, err
			}
		}
		data, err := ctl.Export(r.Context(), b.Name, b.PrivateKey)
		return &exportResult{Config: data}, err
	})
	read("GET /v1/settings", func(w http.ResponseWriter, r *http.Request) (any, error) {
		return ctl.Settings(r.Context())
	})
	mux.HandleFunc("GET /v1/watch", s.watch)

	write("POST /v1/invite", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var req control.InviteRequest
		if err := decodeBody(r, &req); err != nil {
			return nil, err
		}
		return ctl.Invite(r.Context(), req)
	})
	write("POST /v1/accept", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var req control.AcceptRequest
		if err := decodeBody(r, &req); err != nil {
			return nil, err
		}
		return ctl.Accept(r.Context(), req)
	})
	// The preview changes nothing, but it is the first half of an accept
	// and reads the tunnels' plans: the same rights as accept.
	write("POST /v1/accept-preview", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var req control.AcceptRequest
		if err := decodeBody(r, &req); err != nil {
			return nil, err
		}
		return ctl.PreviewAccept(r.Context(), req)
	})
	write("POST /v1/remove", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var b nameBody
		if err := decodeBody(r, &b); err != nil {
			return nil, err
		}
		return struct{}{}, ctl.Remove(r.Context(), b.Name)
	})
	write("POST /v1/rename", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var b renameBody
		if err := decodeBody(r, &b); err != nil {
			return nil, err
		}
		return struct{}{}, ctl.Rename(r.Context(), b.Old, b.New)
	})
	write("POST /v1/set-port", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var b portBody
		if err := decodeBody(r, &b); err != nil {
			return nil, err
		}
		return struct{}{}, ctl.SetListenPort(r.Context(), b.Name, b.Port)
	})
	write("POST /v1/natcheck", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var req control.NATCheckRequest
		if err := decodeBody(r, &req); err != nil {
			return nil, err
		}
		return ctl.NATCheck(r.Context(), req)
	})
	write("POST /v1/settings", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var set control.Settings
		if err := decodeBody(r, &set); err != nil {
			return nil, err
		}
		return struct{}{}, ctl.SetSettings(r.Context(), set)
	})
	write("POST /v1/up", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var b nameBody
		if err := decodeBody(r, &b); err != nil {
			return nil, err
		}
		return struct{}{}, ctl.Up(r.Context(), b.Name)
	})
	write("POST /v1/down", func(w http.ResponseWriter, r *http.Request) (any, error) {
		var b nameBody
		if err := decodeBody(r, &b); err != nil {
			return nil, err
		}
		return struct{}{}, ctl.Down(r.Context(), b.Name)
	})
}

func (s *Server) logDenied(r *http.Request, err error) {
	c, _ := r.Context().Value(credKey{}).(Cred)
	s.opts.Logf("denied %s %s to uid %d pid %d", r.Method, r.URL.Path, c.UID, c.PID)
}

const maxBody = 1 << 20

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		return &remoteError{code: codeInvalid, msg: fmt.Sprintf("bad request body: %v", err)}
	}
	return nil
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, h func(w http.ResponseWriter, r *http.Request) (any, error)) {
	v, err := h(w, r)
	if err != nil {
		if code, _ := errCode(err); code == "internal" {
			s.opts.Logf("%s %s: %v", r.Method, r.URL.Path, err)
		}
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	code, status := errCode(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&errorBody{Error: err.Error(), Code: code})
}

// watch streams one JSON Report per line until the client goes away.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	release, err := s.watchSlot(r)
	if err != nil {
		s.opts.Logf("refused %s %s: %v", r.Method, r.URL.Path, err)
		writeErr(w, err)
		return
	}
	defer release()
	ch, err := s.opts.Controller.Watch(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	for rep := range ch {
		// Each event must be taken within WriteTimeout; a client that
		// stops reading loses the stream, an idle one keeps it.
		if err := rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)); err != nil {
			return
		}
		if err := enc.Encode(rep); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// watchSlot takes one of the caller's watch streams, or says why not.
func (s *Server) watchSlot(r *http.Request) (release func(), err error) {
	c, _ := r.Context().Value(credKey{}).(Cred)
	key := "unknown"
	if c.Known {
		key = strconv.FormatUint(uint64(c.UID), 10)
	}
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	switch {
	case s.watchByUID[key] >= s.opts.MaxWatchPerUser:
		return nil, fmt.Errorf("%w: this user already has %d status streams (watch) open, the most allowed; close other WG Punch windows or status --watch commands, then try again", control.ErrBusy, s.opts.MaxWatchPerUser)
	case s.watchAll >= s.opts.MaxWatch:
		return nil, fmt.Errorf("%w: the daemon already serves %d status streams (watch), the most allowed; close some WG Punch windows or status --watch commands, then try again", control.ErrBusy, s.opts.MaxWatch)
	}
	s.watchByUID[key]++
	s.watchAll++
	return func() {
		s.watchMu.Lock()
		defer s.watchMu.Unlock()
		s.watchAll--
		if s.watchByUID[key]--; s.watchByUID[key] <= 0 {
			delete(s.watchByUID, key)
		}
	}, nil
}
