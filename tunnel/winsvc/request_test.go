package winsvc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRequestInstall(t *testing.T) {
	dir := t.TempDir()
	text := []byte("[Interface]\nPrivateKey = k\n")
	if err := WriteRequest(dir, Request{Op: OpInstall, Names: []string{"office"}}, map[string][]byte{"office": text}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "office.conf")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plain config: %v, %v; want mode 0600", fi, err)
	}
	scm := newFakeSCM()
	if err := HandleRequest(dir, scm); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]byte{"office": text}, scm.installed); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "office.conf")); !os.IsNotExist(err) {
		t.Errorf("plain config with the private key still exists after the request (%v)", err)
	}
	res, err := ReadResult(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Result{Names: []string{"office"}}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		name    string
		req     Request
		configs map[string][]byte
		failOn  string
		want    string
	}{
		{"missing config", Request{Op: OpInstall, Names: []string{"office"}}, nil, "", "read config of \"office\""},
		{"service fails", Request{Op: OpInstall, Names: []string{"office"}}, map[string][]byte{"office": []byte("x")}, "office", "stopped at start"},
		{"bad name", Request{Op: OpRemove, Names: []string{"../x"}}, nil, "", "tunnel name"},
		{"unknown op", Request{Op: "format-c"}, nil, "", "unknown request"},
		{"remove fails", Request{Op: OpRemove, Names: []string{"home"}}, nil, "home", "marked for deletion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteRequest(dir, tt.req, tt.configs); err != nil {
				t.Fatal(err)
			}
			scm := newFakeSCM()
			scm.failOn = tt.failOn
			err := HandleRequest(dir, scm)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("HandleRequest error = %v, want one containing %q", err, tt.want)
			}
			res, rerr := ReadResult(dir)
			if rerr != nil || res.Error != err.Error() {
				t.Errorf("result = %+v, %v; want the error %q reported", res, rerr, err)
			}
			for name := range tt.configs {
				if _, err := os.Stat(filepath.Join(dir, name+".conf")); !os.IsNotExist(err) {
					t.Errorf("plain config %s left behind after a failed request", name)
				}
			}
		})
	}
}

func TestReadResultMissing(t *testing.T) {
	if _, err := ReadResult(t.TempDir()); err == nil || !strings.Contains(err.Error(), "did not report back") {
		t.Errorf("ReadResult on empty dir = %v", err)
	}
}

func TestRequestUninstall(t *testing.T) {
	dir := t.TempDir()
	scm := newFakeSCM()
	scm.installed["a"] = []byte("x")
	scm.installed["b"] = []byte("y")
	scm.installed["c"] = []byte("z")
	scm.failOn = "b"
	if err := WriteRequest(dir, Request{Op: OpUninstall}, nil); err != nil {
		t.Fatal(err)
	}
	err := HandleRequest(dir, scm)
	if err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("HandleRequest = %v, want the failure of b reported", err)
	}
	// It goes on past b's failure.
	left, _ := scm.Installed()
	if diff := cmp.Diff([]string{"b"}, left); diff != "" {
		t.Errorf("left installed (-want +got):\n%s", diff)
	}
	res, _ := ReadResult(dir)
	if diff := cmp.Diff([]string{"a", "c"}, res.Names); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
}
