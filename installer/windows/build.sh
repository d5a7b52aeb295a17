#!/bin/sh
# Builds dist/wgpunch.exe and, given WireGuardNT's DLL, the MSI.
# Called by "make dist-windows" (mk/dist.mk) from the repository root; every
# setting comes from the environment (see mk/dist.mk for defaults).
set -eu

: "${VERSION:?}" "${COMMIT:?}" "${DIST:?}" "${GO:=go}"
: "${GO_WINRES:?}" "${WIN_CC:=x86_64-w64-mingw32-gcc}" "${WIN_TAGS:=}"
: "${WIREGUARD_DLL:=}" "${WIREGUARD_NT_ZIP:=}"
: "${WIREGUARD_NT_ZIP_SHA256:?}" "${WIREGUARD_DLL_SHA256:?}"
: "${SIGN_CERT:=}" "${SIGN_KEY:=}" "${SIGN_PASS:=}"

out="$DIST/windows"
mkdir -p "$out"
msi="$out/wgpunch-$VERSION-amd64.msi"
rm -f "$out/wgpunch.exe" "$out/wireguard.dll" "$msi"

# WireGuardNT first: a wrong DLL fails before the long build.
sha() { sha256sum "$1" | cut -d' ' -f1; }
if [ -n "$WIREGUARD_NT_ZIP" ]; then
	got=$(sha "$WIREGUARD_NT_ZIP")
	if [ "$got" != "$WIREGUARD_NT_ZIP_SHA256" ]; then
		echo "dist-windows: $WIREGUARD_NT_ZIP has SHA-256 $got, but the official wireguard-nt-1.1.zip has $WIREGUARD_NT_ZIP_SHA256: get it again from https://download.wireguard.com/wireguard-nt/" >&2
		exit 1
	fi
	unzip -p "$WIREGUARD_NT_ZIP" wireguard-nt/bin/amd64/wireguard.dll >"$out/wireguard.dll"
	echo "== wireguard.dll from the verified $WIREGUARD_NT_ZIP (dll SHA-256 $(sha "$out/wireguard.dll"))"
elif [ -n "$WIREGUARD_DLL" ]; then
	got=$(sha "$WIREGUARD_DLL")
	if [ "$got" != "$WIREGUARD_DLL_SHA256" ]; then
		echo "dist-windows: $WIREGUARD_DLL has SHA-256 $got, expected $WIREGUARD_DLL_SHA256 (amd64 wireguard.dll of wireguard-nt-1.1.zip): use the DLL from the official zip, or pass WIREGUARD_NT_ZIP=/path/wireguard-nt-1.1.zip" >&2
		exit 1
	fi
	cp "$WIREGUARD_DLL" "$out/wireguard.dll"
	echo "== wireguard.dll verified (SHA-256 $got)"
fi


# Windows wants a numeric file version: 0.1.0-rc1 -> 0.1.0.0
numver=$(printf '%s' "$VERSION" | sed 's/[^0-9.].*//; s/\.$//')
case "$numver" in *.*.*.*) ;; *.*.*) numver="$numver.0" ;; *.*) numver="$numver.0.0" ;; *) numver="0.0.0.0" ;; esac

echo "== resources (go-winres): icon, version $numver, manifest"
# A build input only: removed again when this script ends.
trap 'rm -f cmd/trayapp/rsrc_windows_amd64.syso' EXIT
GOOS= GOARCH= GOFLAGS= "$GO" run "$GO_WINRES" simply \
	--arch amd64 --out cmd/trayapp/rsrc --manifest gui \
	--icon assets/app.ico \
	--product-name "WG Punch" --file-description "WG Punch" \
	--product-version "$numver" --file-version "$numver" \
	--original-filename wgpunch.exe \
	--copyright "WG Punch contributors"
test -s cmd/trayapp/rsrc_windows_amd64.syso

case " $WIN_TAGS " in
*" nogui "*) cgo=0 ;;
*) cgo=1 ;;
esac
echo "== wgpunch.exe (CGO_ENABLED=$cgo, tags '$WIN_TAGS')"
ldflags="-H windowsgui -s -w -X github.com/wgpunch/wgpunch/internal/version.Version=$VERSION -X github.com/wgpunch/wgpunch/internal/version.Commit=$COMMIT"
GOOS=windows GOARCH=amd64 CGO_ENABLED=$cgo CC="$WIN_CC" GOFLAGS="${GOFLAGS:--mod=mod}" \
	"$GO" build -trimpath -tags "$WIN_TAGS" -ldflags "$ldflags" -o "$out/wgpunch.exe" ./cmd/trayapp

sign() { # sign FILE DESCRIPTION
	if [ -z "$SIGN_CERT" ] && [ -z "$SIGN_KEY" ]; then
		return 0
	fi
	if [ -z "$SIGN_CERT" ] || [ -z "$SIGN_KEY" ]; then
		echo "dist-windows: give both SIGN_CERT and SIGN_KEY (PEM or DER), or neither" >&2
		exit 1
	fi
	echo "== signing $1"
	set -- "$1" "$2"
	if [ -n "$SIGN_PASS" ]; then
		osslsigncode sign -certs "$SIGN_CERT" -key "$SIGN_KEY" -pass "$SIGN_PASS" -h sha256 -n "$2" \
			-i https://github.com/wgpunch/wgpunch -in "$1" -out "$1.signed"
	else
		osslsigncode sign -certs "$SIGN_CERT" -key "$SIGN_KEY" -h sha256 -n "$2" \
			-i https://github.com/wgpunch/wgpunch -in "$1" -out "$1.signed"
	fi
	mv "$1.signed" "$1"
}
sign "$out/wgpunch.exe" "WG Punch"

if [ ! -s "$out/wireguard.dll" ]; then
	echo "dist-windows: built $out/wgpunch.exe only."
	echo "dist-windows: the MSI needs WireGuardNT's wireguard.dll, which this build cannot download:"
	echo "dist-windows:   make dist-windows WIREGUARD_NT_ZIP=/path/wireguard-nt-1.1.zip   (or WIREGUARD_DLL=/path/wireguard.dll)"
	exit 0
fi

echo "== $msi (wixl)"
# wixl resolves sources relative to the working directory only.
stage=$(mktemp -d)
trap 'rm -rf "$stage" cmd/trayapp/rsrc_windows_amd64.syso' EXIT
cp "$out/wgpunch.exe" "$out/wireguard.dll" assets/app.ico installer/windows/wgpunch.wxs "$stage/"
(cd "$stage" && wixl -a x64 -D Version="$numver" -D ExePath=wgpunch.exe -D DllPath=wireguard.dll \
	-D IconPath=app.ico -o wgpunch.msi wgpunch.wxs 2>&1 | grep -v 'g_object_set_is_valid_property\|^$' || true)
test -s "$stage/wgpunch.msi"
cp "$stage/wgpunch.msi" "$msi"
sign "$msi" "WG Punch Setup"
echo "dist-windows: $msi"
