package ipc

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Default caps on open socket connections, checked when a connection is
// accepted. The total stays well above the per-uid cap times a few users,
// so one user holding its whole share cannot starve the others.
const (
	DefaultMaxConnsPerUser = 64
	DefaultMaxConns        = 512
)

// Default timeouts. Clients are local programs (GUI, CLI) that send a
// request as one write, so anything slower than a few seconds is stuck or
// hostile:
//   - ReadHeaderTimeout 5 s: a new connection must send its request
//     headers within 5 s, or it is closed (idle floods free their slots).
//   - ReadTimeout 10 s: the whole request, body included (at most 1 MiB).
//   - WriteTimeout 30 s: writing one response, or one watch event, to a
//     client that does not read. It starts when the answer is ready, so
//     slow work (NAT check, up) is not cut short.
//   - IdleTimeout 60 s: a kept-alive connection between requests; above
//     the Client's own 30 s IdleConnTimeout, so the client closes first
//     and never sends a request on a connection the daemon is closing.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
)

// capListener closes, at once, connections over the per-uid or total cap.
type capListener struct {
	net.Listener
	perUser, total int
	logf           func(string, ...any)

	mu      sync.Mutex
	byUID   map[string]int // "uid" or "unknown" -> open connections
	all     int
	lastLog time.Time
	dropped int // refused since lastLog, not yet logged
}

func newCapListener(ln net.Listener, perUser, total int, logf func(string, ...any)) *capListener {
	return &capListener{Listener: ln, perUser: perUser, total: total, logf: logf, byUID: map[string]int{}}
}

// capLogEvery rate-limits the log line about refused connections.
const capLogEvery = 10 * time.Second

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cred := peerCred(c)
		key := credKeyString(cred)
		l.mu.Lock()
		if l.byUID[key] >= l.perUser || l.all >= l.total {
			why := "the per-user cap of " + strconv.Itoa(l.perUser)
			if l.byUID[key] < l.perUser {
				why = "the total cap of " + strconv.Itoa(l.total)
			}
			l.dropped++
			now := time.Now()
			if now.Sub(l.lastLog) >= capLogEvery {
				l.logf("refused connection from uid %s pid %d: %s open connections reached (%d refused since last report)", key, cred.PID, why, l.dropped)
				l.lastLog, l.dropped = now, 0
			}
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.byUID[key]++
		l.all++
		l.mu.Unlock()
		return &capConn{Conn: c, cred: cred, release: func() { l.release(key) }}, nil
	}
}

func (l *capListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all--
	if l.byUID[key]--; l.byUID[key] <= 0 {
		delete(l.byUID, key)
	}
}

// open returns the open connections of uid key ("unknown" if not known)
// and in total.
func (l *capListener) open(key string) (user, all int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byUID[key], l.all
}

func credKeyString(c Cred) string {
	if !c.Known {
		return "unknown"
	}
	return strconv.FormatUint(uint64(c.UID), 10)
}

// capConn is an accepted connection holding one slot until closed; it
// carries the peer's credentials read at accept.
type capConn struct {
	net.Conn
	cred    Cred
	once    sync.Once
	release func()
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// connCred is the credentials of c as read when it was accepted.
func connCred(c net.Conn) Cred {
	if cc, ok := c.(*capConn); ok {
		return cc.cred
	}
	return peerCred(c)
}

// withDeadlines reads the request body under the server's ReadTimeout,
// then lifts the read deadline (so long calls and watch streams are not
// cancelled by it) and bounds each response's write by writeTimeout from
// the moment the answer starts.
func withDeadlines(h http.Handler, writeTimeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				w.Header().Set("Connection", "close")
				writeErr(w, &remoteError{code: codeInvalid, msg: "the request body did not arrive in time: " + err.Error()})
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		_ = rc.SetReadDeadline(time.Time{})
		h.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: rc, timeout: writeTimeout}, r)
	})
}

// deadlineWriter sets the write deadline when the response starts.
// Streams (watch) set their own before each event.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	started bool
}

func (d *deadlineWriter) start() {
	if !d.started {
		d.started = true
		_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	}
}

func (d *deadlineWriter) WriteHeader(code int) { d.start(); d.ResponseWriter.WriteHeader(code) }

func (d *deadlineWriter) Write(p []byte) (int, error) { d.start(); return d.ResponseWriter.Write(p) }

func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
