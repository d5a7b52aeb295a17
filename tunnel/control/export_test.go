package control

// Unexported helpers the external tests (package control_test) check.
var (
	IfaceOf = (*Service).ifaceOf
	Wrapf   = wrapf
)

// OptionsOf is the ServiceOptions s runs with (to start a second Service
// on the same fakes, like a restarted daemon).
func OptionsOf(s *Service) ServiceOptions { return s.opts }

// WatchPolling says whether the Watch poller runs.
func WatchPolling(s *Service) bool {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	return s.watchStop != nil
}
