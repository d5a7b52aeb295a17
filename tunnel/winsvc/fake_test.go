package winsvc

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// fakeProtector stands in for DPAPI: it binds the name like DPAPI's
// description and scrambles the data so plain text never shows.
type fakeProtector struct {
	failProtect bool
	corrupt     bool // Unprotect returns something else
}

func (f fakeProtector) Protect(data []byte, name string) ([]byte, error) {
	if f.failProtect {
		return nil, errors.New("key store unavailable")
	}
	out := append([]byte(name+"\x00"), data...)
	for i := len(name) + 1; i < len(out); i++ {
		out[i] ^= 0xA5
	}
	return out, nil
}

func (f fakeProtector) Unprotect(data []byte, name string) ([]byte, error) {
	n, rest, ok := bytes.Cut(data, []byte{0})
	if !ok {
		return nil, errors.New("not a protected blob")
	}
	if string(n) != name {
		return nil, errors.New("input name does not match the stored name")
	}
	out := bytes.Clone(rest)
	for i := range out {
		out[i] ^= 0xA5
	}
	if f.corrupt && len(out) > 0 {
		out[0]++
	}
	return out, nil
}

// fakeSCM is a Privileged keeping services in memory.
type fakeSCM struct {
	mu        sync.Mutex
	installed map[string][]byte
	failOn    string
	calls     []string
}

func newFakeSCM() *fakeSCM { return &fakeSCM{installed: map[string][]byte{}} }

func (f *fakeSCM) Install(name string, text []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "install "+name)
	if name == f.failOn {
		return fmt.Errorf("service %s stopped at start", name)
	}
	f.installed[name] = bytes.Clone(text)
	return nil
}

func (f *fakeSCM) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+name)
	if name == f.failOn {
		return fmt.Errorf("service %s is still marked for deletion", name)
	}
	delete(f.installed, name)
	return nil
}

func (f *fakeSCM) Installed() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.installed {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}
