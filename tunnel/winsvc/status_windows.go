package winsvc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/ipc/namedpipe"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// ServeStatus answers on StatusPipe(name) until ctx ends; the tunnel
// service runs it. Each client gets a 4-byte little-endian length and
// EncodeDevice's JSON; the pipe is closed once the client has closed its
// end (or after 5 s), so no unread data is discarded.
func ServeStatus(ctx context.Context, name string) error {
	sd, err := windows.SecurityDescriptorFromString(StatusPipeSDDL)
	if err != nil {
		return fmt.Errorf("status pipe SDDL: %w", err)
	}
	l, err := (&namedpipe.ListenConfig{SecurityDescriptor: sd}).Listen(StatusPipe(name))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", StatusPipe(name), err)
	}
	go func() { <-ctx.Done(); l.Close() }()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept on %s: %w", StatusPipe(name), err)
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			client, err := wgctrl.New()
			if err != nil {
				return
			}
			d, err := client.Device(name)
			client.Close()
			if err != nil {
				return
			}
			b, err := EncodeDevice(d)
			if err != nil {
				return
			}
			var n [4]byte
			binary.LittleEndian.PutUint32(n[:], uint32(len(b)))
			if _, err := c.Write(append(n[:], b...)); err != nil {
				return
			}
			io.Copy(io.Discard, c) // until the client closes
		}()
	}
}

// DeviceReader reads a tunnel's WireGuardNT device: through wgctrl when this
// process may open the device (elevated), else from the tunnel service's
// status pipe. It satisfies monitor.DeviceReader.
type DeviceReader struct {
	wg *wgctrl.Client // nil if wgctrl is unavailable
}

// NewDeviceReader returns a DeviceReader; it never fails.
func NewDeviceReader() *DeviceReader {
	c, err := wgctrl.New()
	if err != nil {
		c = nil
	}
	return &DeviceReader{wg: c}
}

// Device implements monitor.DeviceReader.
func (r *DeviceReader) Device(name string) (*wgtypes.Device, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	var wgErr error
	if r.wg != nil {
		d, err := r.wg.Device(name)
		if err == nil {
			return d, nil
		}
		wgErr = err
	}
	d, err := readStatusPipe(name)
	if errors.Is(err, os.ErrNotExist) {
		err = deviceError(name, TunnelServiceState(name), err)
	}
	if err != nil && wgErr != nil {
		return nil, fmt.Errorf("read tunnel %q: %w (wgctrl: %v)", name, err, wgErr)
	}
	return d, err
}

// Close releases the wgctrl client.
func (r *DeviceReader) Close() error {
	if r.wg != nil {
		return r.wg.Close()
	}
	return nil
}

func readStatusPipe(name string) (*wgtypes.Device, error) {
	p16, err := windows.UTF16PtrFromString(StatusPipe(name))
	if err != nil {
		return nil, err
	}
	var h windows.Handle
	for try := 0; ; try++ {
		// SECURITY_IDENTIFICATION: a squatting server cannot impersonate us.
		h, err = windows.CreateFile(p16, windows.GENERIC_READ, 0, nil, windows.OPEN_EXISTING,
			windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if err != windows.ERROR_PIPE_BUSY || try == 20 {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return nil, fmt.Errorf("tunnel %q is not running: %w", name, os.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", StatusPipe(name), err)
	}
	f := os.NewFile(uintptr(h), StatusPipe(name))
	defer f.Close()
	var n uint32
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("read %s: %w", StatusPipe(name), err)
	}
	if n > maxStatusSize {
		return nil, fmt.Errorf("read %s: status too large (%d bytes)", StatusPipe(name), n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", StatusPipe(name), err)
	}
	return DecodeDevice(b)
}
