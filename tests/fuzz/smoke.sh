#!/bin/sh
# smoke.sh - `make check` smoke run of the WKProto libFuzzer target: build
# tests/fuzz/fuzz_wkproto with clang (ASan/UBSan) and fuzz for about 20 s
# from the seeds.  Exits 77 (skip) without a clang that can build libFuzzer
# targets; fails on any crash.  Runs in the build directory; the sources
# are in $WK_SRCDIR.
srcdir=${WK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CLANG=${CLANG:-$(command -v clang)}
if [ -z "$CLANG" ] || ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "smoke.sh: no clang; skipped"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
# A toolchain without the libFuzzer runtime is a skip, not a failure.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ return 0; }\n' \
    >"$tmp/probe.c"
if ! "$CLANG" -fsanitize=fuzzer -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1; then
	echo "smoke.sh: $CLANG cannot build libFuzzer targets; skipped"
	exit 77
fi
make CLANG="$CLANG" tests/fuzz/fuzz_wkproto || exit 1
mkdir -p "$tmp/corpus"
tests/fuzz/fuzz_wkproto -max_total_time=20 -timeout=10 -artifact_prefix=tests/fuzz/ \
    -print_final_stats=1 "$tmp/corpus" "$srcdir/tests/fuzz/seeds"
