# shellcheck shell=sh
# protolib.sh - what proto.sh and proto-profile.sh share (sourced; needs
# $src, the source tree, and $BUILD, the cmake build directory).

# proto_build - rm_bin, LOAD and EMPTY: relaymilter, miltload and
# emptymilter of $BUILD, built there with the project's flags when one is
# missing (contrib/bench/CMakeLists.txt).
proto_build() {
	rm_bin=$BUILD/milter/relaymilter
	LOAD=$BUILD/contrib/bench/miltload
	EMPTY=$BUILD/contrib/bench/emptymilter
	[ -x "$rm_bin" ] && [ -x "$LOAD" ] && [ -x "$EMPTY" ] && return 0
	echo "building relaymilter, miltload and emptymilter in $BUILD" >&2
	cmake -S "$src" -B "$BUILD" -DRM_BENCH=ON >/dev/null
	cmake --build "$BUILD" --target relaymilter miltload emptymilter >/dev/null
}
