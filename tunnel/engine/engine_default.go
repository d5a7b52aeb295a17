//go:build !linux && !windows

package engine

// New returns ErrUnsupported: this platform has no engine.
func New(opts Options) (Engine, error) {
	return nil, ErrUnsupported
}
