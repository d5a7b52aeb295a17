package winsvc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The unelevated app asks its elevated copy for work through a request
// directory it creates with os.MkdirTemp in the user's own %TEMP% (only the
// user, SYSTEM and the Administrators can read it):
//
//	DIR\request.json   Request
//	DIR\NAME.conf      plain wg-quick text of each tunnel to install
//	DIR\result.json    Result, written by the elevated copy
//
// The elevated copy deletes every NAME.conf as soon as it has read it.
const (
	requestFile = "request.json"
	resultFile  = "result.json"
)

// Op is what an elevated request does.
type Op string

const (
	OpInstall   Op = "install"   // install and start the named tunnels' services
	OpRemove    Op = "remove"    // stop and delete the named tunnels' services
	OpUninstall Op = "uninstall" // remove every WG Punch tunnel service
)

// Request is request.json.
type Request struct {
	Op    Op       `json:"op"`
	Names []string `json:"names,omitempty"`
}

// Result is result.json.
type Result struct {
	Error string   `json:"error,omitempty"`
	Names []string `json:"names,omitempty"` // tunnels acted on
}

// Privileged does what needs an administrator. Implementations must be
// safe to call again for a tunnel already in the wanted state.
type Privileged interface {
	// Install stores wgQuick encrypted and installs and starts the
	// service of tunnel name, replacing a previous one.
	Install(name string, wgQuick []byte) error
	// Remove stops and deletes the service of tunnel name and its stored
	// config. A tunnel that is not installed is not an error.
	Remove(name string) error
	// Installed lists the tunnels that have a service.
	Installed() ([]string, error)
}

// WriteRequest writes req and the configs (tunnel name -> wg-quick text)
// into dir, which the caller created private.
func WriteRequest(dir string, req Request, configs map[string][]byte) error {
	for name, text := range configs {
		if err := ValidName(name); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+PlainSuffix), text, 0o600); err != nil {
			return fmt.Errorf("write request: %w", err)
		}
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, requestFile), b, 0o600); err != nil {
		return fmt.Errorf("write request: %w", err)
	}
	return nil
}

// ReadResult reads what the elevated copy reported; a missing result means
// it never ran to the end.
func ReadResult(dir string) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, resultFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("the elevated WG Punch helper did not report back: see the Windows event log")
	}
	if err != nil {
		return nil, fmt.Errorf("read helper result: %w", err)
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("read helper result: %w", err)
	}
	return &res, nil
}

// HandleRequest runs in the elevated copy: it performs the request in dir
// with p, removes the plain configs and writes result.json. The returned
// error is also in the result.
func HandleRequest(dir string, p Privileged) error {
	res := Result{}
	err := handle(dir, p, &res)
	if err != nil {
		res.Error = err.Error()
	}
	b, _ := json.Marshal(res)
	if werr := os.WriteFile(filepath.Join(dir, resultFile), b, 0o600); werr != nil && err == nil {
		err = fmt.Errorf("write helper result: %w", werr)
	}
	return err
}

func handle(dir string, p Privileged, res *Result) error {
	b, err := os.ReadFile(filepath.Join(dir, requestFile))
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	var req Request
	if err := json.Unmarshal(b, &req); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	for _, name := range req.Names {
		if err := ValidName(name); err != nil {
			return err
		}
	}
	switch req.Op {
	case OpInstall:
		texts := make(map[string][]byte, len(req.Names))
		for _, name := range req.Names {
			path := filepath.Join(dir, name+PlainSuffix)
			text, err := os.ReadFile(path)
			os.Remove(path) // plain text with a private key: gone at once
			if err != nil {
				return fmt.Errorf("read config of %q: %w", name, err)
			}
			texts[name] = text
		}
		for _, name := range req.Names {
			if err := p.Install(name, texts[name]); err != nil {
				return fmt.Errorf("start tunnel %q: %w", name, err)
			}
			res.Names = append(res.Names, name)
		}
	case OpRemove:
		for _, name := range req.Names {
			if err := p.Remove(name); err != nil {
				return fmt.Errorf("stop tunnel %q: %w", name, err)
			}
			res.Names = append(res.Names, name)
		}
	case OpUninstall:
		return UninstallAll(p, res)
	default:
		return fmt.Errorf("unknown request %q", req.Op)
	}
	return nil
}

// UninstallAll removes every installed WG Punch tunnel service, going on
// past failures, and then, when p is a SealedRemover, every sealed config
// left without a service, so that no private key survives an uninstall.
// It returns the first error.
func UninstallAll(p Privileged, res *Result) error {
	names, err := p.Installed()
	if err != nil {
		return fmt.Errorf("list tunnel services: %w", err)
	}
	var first error
	var left []string
	for _, name := range names {
		if err := p.Remove(name); err != nil {
			if first == nil {
				first = fmt.Errorf("remove tunnel %q: %w", name, err)
			}
			left = append(left, name)
			continue
		}
		if res != nil {
			res.Names = append(res.Names, name)
		}
	}
	if sr, ok := p.(SealedRemover); ok {
		removed, err := sr.RemoveSealed(left)
		if err != nil && first == nil {
			first = err
		}
		if res != nil {
			res.Names = append(res.Names, removed...)
		}
	}
	return first
}
