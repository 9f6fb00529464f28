#!/bin/sh
# lint.sh - a `make check` test: mandoc -Tlint -W warning over every man page
# of the source tree (man/*.[1-8]).  Any message fails the test and is shown.
# Environment: WK_SRCDIR (absolute source dir), MANDOC (path; empty = skip, 77).
if [ -z "$MANDOC" ]; then
	echo "lint.sh: no mandoc; skipped"
	exit 77
fi
srcdir=${WK_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
out=$("$MANDOC" -Tlint -W warning "$srcdir"/man/*.[1-8] 2>&1)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	exit 1
fi
exit 0
