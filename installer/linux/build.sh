#!/bin/sh
# Builds dist/linux/wgpunch_VERSION_ARCH.deb with nfpm. Called by
# "make dist-linux" (mk/dist.mk) from the repository root.
set -eu

: "${VERSION:?}" "${COMMIT:?}" "${DIST:?}" "${GO:=go}" "${NFPM:?}" "${LINUX_TAGS:=}"
ARCH=${ARCH:-$("$GO" env GOARCH)}
out="$DIST/linux"
mkdir -p "$out/icons"

if [ ! -f installer/linux/wgpunch.service ]; then
	echo "dist-linux: installer/linux/wgpunch.service is missing (the daemon's unit)" >&2
	exit 1
fi

case " $LINUX_TAGS " in
*" nogui "*) cgo=0 ;;
*) cgo=1 ;;
esac
echo "== wgpunch (CGO_ENABLED=$cgo, tags '$LINUX_TAGS')"
ldflags="-s -w -X github.com/wgpunch/wgpunch/internal/version.Version=$VERSION -X github.com/wgpunch/wgpunch/internal/version.Commit=$COMMIT"
GOOS=linux GOARCH="$ARCH" CGO_ENABLED=$cgo GOFLAGS="${GOFLAGS:--mod=mod}" \
	"$GO" build -trimpath -tags "$LINUX_TAGS" -ldflags "$ldflags" -o "$out/wgpunch" ./cmd/trayapp

echo "== icons"
for s in 48 128 256; do
	rsvg-convert -w $s -h $s assets/svg/app.svg -o "$out/icons/$s.png"
done

echo "== deb (nfpm)"
deb="$out/wgpunch_${VERSION}_${ARCH}.deb"
rm -f "$deb"
# nfpm expands variables only in some fields: fill in the template here.
sed -e "s|\${VERSION}|$VERSION|g" -e "s|\${ARCH}|$ARCH|g" \
	-e "s|\${LINUX_BIN}|$out/wgpunch|g" -e "s|\${ICON_DIR}|$out/icons|g" \
	installer/linux/nfpm.yaml >"$out/nfpm.yaml"
GOOS= GOARCH= GOFLAGS= "$GO" run "$NFPM" package --config "$out/nfpm.yaml" --packager deb --target "$deb"
echo "dist-linux: $deb"
