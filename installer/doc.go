// Package installer holds the packaging inputs (windows/: the MSI source
// and build script; linux/: nfpm config, unit, desktop entries, maintainer
// scripts) and, in its tests, the checks of the built artefacts. The tests
// build what they check and are slow; they run only with
// WGPUNCH_DIST_TEST=1 ("make test-dist").
package installer
