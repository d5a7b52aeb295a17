package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// StockTunnel is a tunnel run by the stock tools only: the Debian
// wireguard-go binary, `wg setconf` and `ip`.
type StockTunnel struct {
	Host  *Host
	Iface string
	proc  *Proc
}

// genKey returns a new private key and its public key, made by `wg`.
func genKey() (priv, pub string, err error) {
	out, err := exec.Command("wg", "genkey").Output()
	if err != nil {
		return "", "", fmt.Errorf("wg genkey: %w", err)
	}
	priv = strings.TrimSpace(string(out))
	cmd := exec.Command("wg", "pubkey")
	cmd.Stdin = strings.NewReader(priv + "\n")
	out, err = cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("wg pubkey: %w", err)
	}
	return priv, strings.TrimSpace(string(out)), nil
}

// StockUp starts `wireguard-go -f iface` on h, applies the wg(8) config
// setconf (no Address/DNS lines: what `wg-quick strip` prints), adds
// addrs, brings the link up and routes routes into it.
func (h *Host) StockUp(iface, setconf string, addrs, routes []string) (*StockTunnel, error) {
	path := filepath.Join(h.Dir, iface+".setconf")
	if err := os.WriteFile(path, []byte(setconf), 0o600); err != nil {
		return nil, err
	}
	p, err := h.lab.start(h.Name+"-wireguard-go-"+iface, h.enter("env", "WG_PROCESS_FOREGROUND=1", "wireguard-go", "-f", iface)...)
	if err != nil {
		return nil, err
	}
	st := &StockTunnel{Host: h, Iface: iface, proc: p}
	sock := "/var/run/wireguard/" + iface + ".sock"
	if _, err := waitFor(10*time.Second, 50*time.Millisecond, func() (bool, string) {
		if !p.Running() {
			return false, "wireguard-go exited: " + p.Output()
		}
		_, err := h.Run("test", "-S", sock)
		return err == nil, "no " + sock
	}); err != nil {
		return nil, err
	}
	cmds := [][]string{{"wg", "setconf", iface, path}}
	for _, a := range addrs {
		cmds = append(cmds, []string{"ip", "addr", "add", a, "dev", iface})
	}
	cmds = append(cmds, []string{"ip", "link", "set", iface, "up"})
	for _, r := range routes {
		cmds = append(cmds, []string{"ip", "route", "replace", r, "dev", iface})
	}
	for _, c := range cmds {
		if _, err := h.Run(c...); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Down stops wireguard-go, which removes the interface and UAPI socket.
func (st *StockTunnel) Down() error { return st.proc.Stop() }

// WGShow runs `wg show iface dump` on the tunnel's host.
func (h *Host) WGShow(iface string) (string, error) {
	return h.Run("wg", "show", iface, "dump")
}

// LatestHandshake returns the peer's latest handshake on iface (0: none).
func (h *Host) LatestHandshake(iface, peerPub string) (int64, error) {
	out, err := h.Run("wg", "show", iface, "latest-handshakes")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == peerPub {
			var ts int64
			_, err := fmt.Sscan(f[1], &ts)
			return ts, err
		}
	}
	return 0, fmt.Errorf("peer %s not on %s: %s", peerPub, iface, out)
}

// stockConf is a wg(8) setconf file.
func stockConf(priv string, port int, peerPub, endpoint, allowed string) string {
	return fmt.Sprintf("[Interface]\nPrivateKey = %s\nListenPort = %d\n\n[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s\nPersistentKeepalive = 5\n",
		priv, port, peerPub, endpoint, allowed)
}
