#!/usr/bin/env bash
# check-format.sh: every tracked .c/.h file is formatted as .clang-format says
# (clang-format 14, Debian 12's). CI runs it; `scripts/check-format.sh --fix`
# formats the tree in place.
set -euo pipefail
cd "$(dirname "$0")/.."
CF="${CLANG_FORMAT:-clang-format}"
command -v "$CF" >/dev/null || { echo "check-format: $CF is not installed (apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--fix" ]; then
    "$CF" -i --style=file "${files[@]}"
    exit 0
fi
if ! "$CF" --dry-run --Werror --style=file "${files[@]}" 2>/tmp/check-format.$$; then
    grep -E '^[^ ].*: (error|warning):' /tmp/check-format.$$ | cut -d: -f1 | sort -u | sed 's/^/check-format: not formatted: /' >&2
    rm -f /tmp/check-format.$$
    echo "check-format: run scripts/check-format.sh --fix" >&2
    exit 1
fi
rm -f /tmp/check-format.$$
echo "check-format: ${#files[@]} files formatted as .clang-format says"
