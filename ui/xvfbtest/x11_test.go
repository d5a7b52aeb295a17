package xvfbtest

import (
	xbin "encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// closeWindow asks an X window to close the way a window manager's close
// button does: a WM_DELETE_WINDOW client message (ICCCM 4.2.8.1), spoken
// in the X11 wire protocol on the display's socket (xdotool can only
// destroy a window, which no app survives cleanly).
func (l *lab) closeWindow(t testing.TB, win string) {
	t.Helper()
	id, err := strconv.ParseUint(strings.TrimPrefix(win, "0x"), 0, 32)
	if err != nil {
		t.Fatalf("window id %q: %v", win, err)
	}
	if err := sendDelete(strings.TrimPrefix(l.display, ":"), uint32(id)); err != nil {
		t.Fatalf("close window %s: %v", win, err)
	}
}

func sendDelete(display string, win uint32) error {
	c, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+display, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	le := xbin.LittleEndian
	// Connection setup: little-endian, protocol 11.0, no authorization.
	if _, err := c.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		return err
	}
	if head[0] != 1 {
		return fmt.Errorf("X server refused the connection (status %d)", head[0])
	}
	if _, err := io.ReadFull(c, make([]byte, 4*int(le.Uint16(head[6:])))); err != nil {
		return err
	}
	atom := func(name string) (uint32, error) {
		pad := (4 - len(name)%4) % 4
		req := make([]byte, 8+len(name)+pad)
		req[0] = 16 // InternAtom
		le.PutUint16(req[2:], uint16(len(req)/4))
		le.PutUint16(req[4:], uint16(len(name)))
		copy(req[8:], name)
		if _, err := c.Write(req); err != nil {
			return 0, err
		}
		rep := make([]byte, 32)
		if _, err := io.ReadFull(c, rep); err != nil {
			return 0, err
		}
		if rep[0] != 1 {
			return 0, fmt.Errorf("InternAtom %s: X error %d", name, rep[1])
		}
		return le.Uint32(rep[8:]), nil
	}
	protocols, err := atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	// SendEvent of a ClientMessage to the window's own client (mask 0).
	req := make([]byte, 44)
	req[0] = 25
	le.PutUint16(req[2:], 11)
	le.PutUint32(req[4:], win)
	ev := req[12:]
	ev[0] = 33 // ClientMessage
	ev[1] = 32 // format
	le.PutUint32(ev[4:], win)
	le.PutUint32(ev[8:], protocols)
	le.PutUint32(ev[12:], del)
	// GetInputFocus after it: its reply says the server handled both.
	req = append(req, 43, 0, 1, 0)
	if _, err := c.Write(req); err != nil {
		return err
	}
	rep := make([]byte, 32)
	if _, err := io.ReadFull(c, rep); err != nil {
		return err
	}
	if rep[0] != 1 {
		return fmt.Errorf("SendEvent: X error %d", rep[1])
	}
	return nil
}
