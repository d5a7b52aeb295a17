# mk/dist.mk: packaging (Windows .exe/.msi, Linux .deb) and icons.
# Included by the top-level Makefile, which defines VERSION and COMMIT
# (and test-cross, the Windows/macOS vet). Tools come only from the Go module
# proxy (pinned below) and Debian packages: mingw-w64, msitools/wixl,
# osslsigncode, librsvg2-bin, unzip.
#
#   make dist-windows [WIREGUARD_NT_ZIP=/path/wireguard-nt-1.1.zip | WIREGUARD_DLL=/path/wireguard.dll]
#                     [SIGN_CERT=cert.pem SIGN_KEY=key.pem [SIGN_PASS=...]] [WIN_TAGS=nogui]
#   make dist-linux   [LINUX_TAGS=nogui]
#   make test-dist    builds both (nogui, a test DLL) and checks the artefacts; needs root
#   make icons        regenerates assets/*.png and assets/app.ico from assets/svg

GO ?= go
DIST ?= dist

GO_WINRES ?= github.com/tc-hib/go-winres@v0.3.3
NFPM ?= github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2

WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_TAGS ?=
LINUX_TAGS ?=

# WireGuardNT is not downloadable here: give the official zip or its DLL.
# The zip's SHA-256 is the one wireguard-windows v1.1.1 pins in its Makefile
# and build.bat (download of wireguard-nt-1.1.zip). The DLL's is that of
# wireguard-nt/bin/amd64/wireguard.dll inside that zip (see docs/packaging.md).
WIREGUARD_NT_ZIP ?=
WIREGUARD_DLL ?=
WIREGUARD_NT_ZIP_SHA256 := dceb30a9bc4be48cce0f74160fc88a585a2c2627366e8f846fc6658f9038dace
WIREGUARD_DLL_SHA256 ?= b1b85e072c45d81358be29d94c599dc76652f912be8c0f0a41e2d5d89a6461d3

SIGN_CERT ?=
SIGN_KEY ?=
SIGN_PASS ?=

DIST_ENV = VERSION='$(VERSION)' COMMIT='$(COMMIT)' DIST='$(DIST)' GO='$(GO)' \
	GO_WINRES='$(GO_WINRES)' NFPM='$(NFPM)' WIN_CC='$(WIN_CC)' WIN_TAGS='$(WIN_TAGS)' \
	LINUX_TAGS='$(LINUX_TAGS)' WIREGUARD_NT_ZIP='$(WIREGUARD_NT_ZIP)' WIREGUARD_DLL='$(WIREGUARD_DLL)' \
	WIREGUARD_NT_ZIP_SHA256='$(WIREGUARD_NT_ZIP_SHA256)' WIREGUARD_DLL_SHA256='$(WIREGUARD_DLL_SHA256)' \
	SIGN_CERT='$(SIGN_CERT)' SIGN_KEY='$(SIGN_KEY)' SIGN_PASS='$(SIGN_PASS)'

.PHONY: dist dist-windows dist-linux test-dist icons

dist: dist-linux dist-windows

dist-windows:
	@$(DIST_ENV) sh installer/windows/build.sh

dist-linux:
	@$(DIST_ENV) sh installer/linux/build.sh

# Artefact tests: builds a nogui exe + MSI (with a stand-in DLL whose hash
# the test passes in), signs it with a throwaway certificate, builds the
# .deb and installs/removes it on this machine (root; restores /usr/bin).
test-dist: test-packages

icons:
	rsvg-convert -w 512 -h 512 assets/svg/app.svg -o assets/app.png
	for s in connected connecting problem off; do \
		rsvg-convert -w 64 -h 64 assets/svg/tray-$$s.svg -o assets/tray-$$s.png; done
	convert assets/app.png -background none -define icon:auto-resize=256,64,48,32,24,16 assets/app.ico
