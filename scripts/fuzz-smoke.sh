#!/usr/bin/env bash
# Bounded fuzz smoke for CI and local use: build every cargo-fuzz target in fuzz/, seed its
# corpus from tests/fixtures, replay the corpus, then fuzz each target for a fixed time.
# Fails (non-zero exit, reproducer in fuzz/artifacts/<target>/) on any crash, panic, failed
# assertion, timeout (-timeout) or out-of-memory (-rss_limit_mb / -malloc_limit_mb).
#
# Usage: scripts/fuzz-smoke.sh [TARGET...]          (default: every target in fuzz/)
# Environment:
#   FUZZ_SECONDS    seconds of fuzzing per target after the replay (default 20)
#   FUZZ_SANITIZER  cargo-fuzz sanitizer: none (default) or address
#
# Stable toolchain: with `-s none` cargo-fuzz passes only stable rustc flags (SanitizerCoverage
# via -Cpasses/-Cllvm-args), so it works on plain stable. `-s address` adds
# `-Zsanitizer=address`, a nightly-only flag; RUSTC_BOOTSTRAP=1 (set below only then) lets
# the stable compiler accept it. CI uses `none`: it builds in less than half the time, and
# panics, failed assertions, stack overflows, hangs (-timeout) and memory growth
# (-rss_limit_mb) are caught by libFuzzer itself. The library forbids `unsafe`, so
# AddressSanitizer only adds checks of dependencies' unsafe code: run it locally with
# FUZZ_SANITIZER=address.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${FUZZ_SECONDS:-20}
sanitizer=${FUZZ_SANITIZER:-none}
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2
    exit 1
fi

# Per-input limits: a hang is any input taking > 10 s; memory is capped well below the
# machine's RAM so "unbounded memory" fails the run instead of swapping (-rss_limit_mb is
# enforced by libFuzzer itself; -malloc_limit_mb, per allocation, needs a sanitizer).
limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024)

corpus=fuzz/corpus
seed_target() {
    local target=$1 dir=$corpus/$1
    mkdir -p "$dir"
    case $target in
        payload_parse | classify)
            # Every delivery body (valid, malformed, rejected, the 100 000-deep bomb).
            find tests/fixtures -name '*.json' ! -name '*.expected.json' \
                ! -path 'tests/fixtures/signatures/*' -print0 |
                while IFS= read -r -d '' f; do
                    cp "$f" "$dir/fixture-$(echo "${f#tests/fixtures/}" | tr '/' '_')"
                done
            ;;
        signature_header)
            # `secret \n header \n body` from every test vector (python3 reads the JSON;
            # without it the target starts from two hand-written seeds).
            printf 'app-secret\nsha256=%064d\n{}' 0 >"$dir/seed-zero-digest"
            printf 'app-secret\nsha1=abc\n' >"$dir/seed-sha1"
            if ! command -v python3 >/dev/null; then
                echo "fuzz-smoke: python3 not found; signature vectors not seeded" >&2
                return
            fi
            python3 - "$dir" <<'PY'
import json, os, sys
out = sys.argv[1]
vectors = json.load(open("tests/fixtures/signatures/vectors.json"))["vectors"]
for v in vectors:
    for i, secret in enumerate(v["secrets"]):
        data = "\n".join([secret, v["header"], v["body"]]).encode()
        with open(os.path.join(out, f"vector-{v['name']}-{i}"), "wb") as f:
            f.write(data)
PY
            ;;
        handshake_query)
            # `token \n query`: Meta's request, encodings, repeats, bad challenges.
            local i=0 q
            for q in \
                'my-verify-token\nhub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token' \
                'my-verify-token\n?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token' \
                'tok en/ä\nhub.verify_token=tok+en%2F%C3%A4&hub.challenge=abcXYZ09&hub.mode=subscribe&x=1' \
                'my-verify-token\nhub.mode=subscribe&hub.mode=subscribe&hub.challenge=1&hub.verify_token=my-verify-token' \
                'my-verify-token\nhub.mode=unsubscribe&hub.challenge=1&hub.verify_token=my-verify-token' \
                'my-verify-token\nhub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=my-verify-token' \
                'my-verify-token\nhub.mode=subscribe&hub.challenge=&hub.verify_token=my-verify-token' \
                'my-verify-token\nhub.mode=subscribe&hub.verify_token=my-verify-token' \
                'my-verify-token\nhub.mode=subscribe&hub.challenge=1%ZZ&hub.verify_token=guess' \
                'my-verify-token\n%FF%FE=%80&hub.mode=subscribe&&&==&hub.challenge=1&hub.verify_token=my-verify-token'; do
                printf '%b' "$q" >"$dir/seed-$i"
                i=$((i + 1))
            done
            ;;
        *)
            echo "fuzz-smoke: no seeds for target $target (fuzzing from an empty corpus)" >&2
            ;;
    esac
}

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi

echo "fuzz-smoke: building ${targets[*]} (sanitizer: $sanitizer)"
(cd fuzz && cargo fuzz build -s "$sanitizer")

for target in "${targets[@]}"; do
    seed_target "$target"
    extra=()
    case $target in
        payload_parse | classify) extra=(-dict=dicts/json.dict) ;;
    esac
    n=$(find "$corpus/$target" -type f | wc -l)
    echo "fuzz-smoke: $target: replaying $n corpus inputs"
    (cd fuzz && cargo fuzz run -s "$sanitizer" "$target" "corpus/$target" -- \
        "${limits[@]}" -runs=0)
    echo "fuzz-smoke: $target: fuzzing for ${secs}s"
    (cd fuzz && cargo fuzz run -s "$sanitizer" "$target" "corpus/$target" -- \
        "${limits[@]}" "${extra[@]}" -max_total_time="$secs" \
        -print_final_stats=1)
done
echo "fuzz-smoke: all targets passed"
