package winsvc

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestLogError(t *testing.T) {
	const path = `C:\Program Files\WG Punch\Data\log.bin`
	if LogError(path, nil) != nil {
		t.Error("LogError(nil) != nil")
	}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("open: %w", fs.ErrPermission), "Command Prompt started as administrator"},
		{fmt.Errorf("open: %w", fs.ErrNotExist), "no tunnel service has written a log yet"},
		{errors.New("bad magic"), "read the tunnel services' log"},
	} {
		err := LogError(path, tt.err)
		if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.err) {
			t.Errorf("LogError(%v) = %v, want %q and the cause", tt.err, err, tt.want)
		}
	}
	// What a failed start tells the user: the command, not the binary file.
	if !strings.Contains(SeeLog, "wgpunch log") || strings.Contains(SeeLog, "log.bin") {
		t.Errorf("SeeLog = %q", SeeLog)
	}
}
