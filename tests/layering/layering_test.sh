#!/usr/bin/env bash
# The house is enforced by the build (DESIGN.md, "The house"; CMakeLists.txt, x420_include_root):
# each library compiles against an include root that holds only the folders below it. This
# compiles one-line probes against the real roots: an include of a folder below must resolve, an
# include of one above must fail because the file is not there. Also: no source escapes its root
# with a relative `..` include.
#   layering_test.sh CXX SOURCE_DIR NAME=ROOT...
set -uo pipefail
cxx=$1 src=$2
shift 2
declare -A root
for pair in "$@"; do  # ROOT is the target's include directories; its include root is among them
  IFS=';' read -ra dirs <<<"${pair#*=}"
  for d in "${dirs[@]}"; do [[ $d == */include-roots/* ]] && root[${pair%%=*}]=$d; done
done
failures=0 probes=0
# The probes read stdin, whose quoted includes are looked up in the working directory first: an
# empty one, so that only the include root can answer.
empty=$(mktemp -d)
trap 'rmdir "$empty"' EXIT
cd "$empty"

probe() {  # probe LIBRARY HEADER compiles|fails
  local lib=$1 header=$2 want=$3 out
  probes=$((probes + 1))
  [[ -n ${root[$lib]:-} ]] || { echo "FAIL: no include root given for $lib"; failures=$((failures + 1)); return; }
  # Only the preprocessor: whether the header is found is the question, not what it needs. A
  # missing header is "No such file or directory" to g++, "file not found" to clang++.
  out=$(printf '#include "%s"\n' "$header" | "$cxx" -std=c++20 -E -I"${root[$lib]}" -x c++ - -o /dev/null 2>&1)
  local status=$?
  if [[ $want == compiles && $status -ne 0 ]]; then
    echo "FAIL: $lib cannot include $header, a folder below it:"; echo "$out" | head -5
    failures=$((failures + 1))
  elif [[ $want == fails && ( $status -eq 0 || ( $out != *"No such file or directory"* && $out != *"file not found"* ) ) ]]; then
    echo "FAIL: $lib can include $header, which is above it (status $status)"
    failures=$((failures + 1))
  fi
}

# Each library sees itself and what it uses.
probe common lib/common/result.h compiles
probe crypto lib/common/result.h compiles
probe store lib/common/result.h compiles
probe keys lib/crypto/secret_bytes.h compiles
probe detect lib/keys/key_format.h compiles
probe metering lib/metering/limits.h compiles
probe service lib/store/store.h compiles
probe service lib/detect/engine.h compiles
probe proxy lib/service/local_service.h compiles
probe cli proxy/server.h compiles

# And nothing above it.
for lib in common crypto store keys detect metering export service; do
  probe $lib proxy/server.h fails
  probe $lib cli/context.h fails
done
probe common lib/crypto/secret_bytes.h fails
probe crypto lib/store/store.h fails
probe store lib/crypto/aead.h fails
probe store lib/service/local_service.h fails
probe keys lib/detect/engine.h fails
probe detect lib/store/store.h fails
probe detect lib/service/local_service.h fails
probe metering lib/store/store.h fails
probe metering lib/detect/engine.h fails
probe export lib/store/store.h fails
probe proxy cli/context.h fails

# No way around the roots.
if escapes=$(grep -rnE '#include +"[^"]*\.\./' "$src/lib" "$src/proxy" "$src/cli"); then
  echo "FAIL: relative includes that climb out of a folder:"; echo "$escapes"
  failures=$((failures + 1))
fi

# Unit test names CTest can run: catch_discover_tests splits a name at ';' into two entries that
# match no test and so pass without running it.
if split=$(grep -rnE 'TEST_CASE\("[^"]*;' "$src/tests/unit"); then
  echo "FAIL: test names with ';' (CTest would not run them):"; echo "$split"
  failures=$((failures + 1))
fi

echo "layering: $probes probes, $failures failures"
[[ $failures -eq 0 ]]
