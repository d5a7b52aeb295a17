package ipc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// Client is a Controller that talks to the daemon over its Unix socket.
type Client struct {
	socket string
	hc     *http.Client
	// Info is the daemon's answer to the ping Dial sent.
	Info PingInfo
}

var _ control.Controller = (*Client)(nil)

// Dial connects to the daemon at socketPath and checks that it answers.
// The error wraps ErrNeedDaemon when nothing answers.
func Dial(socketPath string) (*Client, error) {
	// Whatever answers is told tokens and believed about tunnels: on
	// Windows only a socket an administrator made is (endpoint.go).
	if err := trustEndpoint(socketPath); err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}
	c := &Client{socket: socketPath, hc: &http.Client{Transport: tr}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.do(ctx, http.MethodGet, "/v1/ping", nil, &c.Info); err != nil {
		tr.CloseIdleConnections()
		if errors.Is(err, control.ErrNeedDaemon) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s does not answer like a WG Punch daemon: %v", control.ErrNeedDaemon, socketPath, err)
	}
	return c, nil
}

// trustEndpoint checks the socket before Dial talks to it; a variable for
// tests.
var trustEndpoint = checkEndpoint

// Socket is the socket path the Client talks to.
func (c *Client) Socket() string { return c.socket }

// Close drops idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

func (c *Client) daemonErr(err error) error {
	return fmt.Errorf("%w (socket %s: %v); %s", control.ErrNeedDaemon, c.socket, err, startDaemon)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://wgpunch"+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.daemonErr(err)
	}
	defer func() {
		// Read to the end (the encoder's newline) so the connection is
		// kept alive: each new one takes a slot of this uid's cap.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return readErr(resp, path)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("read daemon answer to %s: %w", path, err)
	}
	return nil
}

func readErr(resp *http.Response, path string) error {
	var eb errorBody
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err := json.Unmarshal(data, &eb); err != nil || eb.Error == "" {
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("the WG Punch daemon does not know %s: it is older than this program; restart the daemon after updating WG Punch", path)
		}
		return fmt.Errorf("daemon answered %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	return &remoteError{code: eb.Code, msg: eb.Error}
}

// List implements Controller.
func (c *Client) List(ctx context.Context) ([]string, error) {
	var out []string
	err := c.do(ctx, http.MethodGet, "/v1/list", nil, &out)
	return out, err
}

// Show implements Controller.
func (c *Client) Show(ctx context.Context, name string) (*conf.Config, error) {
	var out conf.Config
	if err := c.do(ctx, http.MethodGet, "/v1/show?name="+url.QueryEscape(name), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Export implements Controller.
func (c *Client) Export(ctx context.Context, name string, withPrivateKey bool) ([]byte, error) {
	var out exportResult
	if err := c.do(ctx, http.MethodPost, "/v1/export", &exportBody{Name: name, PrivateKey: withPrivateKey}, &out); err != nil {
		return nil, err
	}
	return out.Config, nil
}

// Invite implements Controller.
func (c *Client) Invite(ctx context.Context, req control.InviteRequest) (*control.InviteResult, error) {
	var out control.InviteResult
	if err := c.do(ctx, http.MethodPost, "/v1/invite", &req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Accept implements Controller.
func (c *Client) Accept(ctx context.Context, req control.AcceptRequest) (*control.AcceptResult, error) {
	var out control.AcceptResult
	if err := c.do(ctx, http.MethodPost, "/v1/accept", &req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PreviewAccept implements Controller. Its own route, not a flag on
// accept: a daemon too old to know it answers 404 rather than accepting
// for real a request whose preview field it would ignore.
func (c *Client) PreviewAccept(ctx context.Context, req control.AcceptRequest) (*control.AcceptResult, error) {
	var out control.AcceptResult
	if err := c.do(ctx, http.MethodPost, "/v1/accept-preview", &req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Remove implements Controller.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/remove", &nameBody{Name: name}, nil)
}

// Rename implements Controller.
func (c *Client) Rename(ctx context.Context, oldName, newName string) error {
	return c.do(ctx, http.MethodPost, "/v1/rename", &renameBody{Old: oldName, New: newName}, nil)
}

// SetListenPort implements Controller.
func (c *Client) SetListenPort(ctx context.Context, name string, port uint16) error {
	return c.do(ctx, http.MethodPost, "/v1/set-port", &portBody{Name: name, Port: port}, nil)
}

// FreePort implements Controller.
func (c *Client) FreePort(ctx context.Context) (uint16, error) {
	var out portResult
	err := c.do(ctx, http.MethodGet, "/v1/free-port", nil, &out)
	return out.Port, err
}

// LocalLANs implements Controller.
func (c *Client) LocalLANs(ctx context.Context) ([]control.LAN, error) {
	var out []control.LAN
	err := c.do(ctx, http.MethodGet, "/v1/lans", nil, &out)
	return out, err
}

// NATCheck implements Controller.
func (c *Client) NATCheck(ctx context.Context, req control.NATCheckRequest) (*natcheck.Report, error) {
	var out natcheck.Report
	if err := c.do(ctx, http.MethodPost, "/v1/natcheck", &req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Up implements Controller.
func (c *Client) Up(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/up", &nameBody{Name: name}, nil)
}

// Down implements Controller.
func (c *Client) Down(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/v1/down", &nameBody{Name: name}, nil)
}

// Status implements Controller.
func (c *Client) Status(ctx context.Context, name string) (*control.Report, error) {
	var out control.Report
	if err := c.do(ctx, http.MethodGet, "/v1/status?name="+url.QueryEscape(name), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Settings implements Controller.
func (c *Client) Settings(ctx context.Context) (*control.Settings, error) {
	var out control.Settings
	if err := c.do(ctx, http.MethodGet, "/v1/settings", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetSettings implements Controller.
func (c *Client) SetSettings(ctx context.Context, set control.Settings) error {
	set.DefaultSTUNServers = nil
	return c.do(ctx, http.MethodPost, "/v1/settings", &set, nil)
}

// Watch implements Controller. The channel closes when ctx ends or the
// daemon goes away.
func (c *Client) Watch(ctx context.Context) (<-chan *control.Report, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://wgpunch/v1/watch", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.daemonErr(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readErr(resp, "/v1/watch")
	}
	ch := make(chan *control.Report, 1)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var rep control.Report
			if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
				return
			}
			select {
			case ch <- &rep:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}
