#!/usr/bin/env bash
# What a user who installs x420 gets: `cmake --install` into a staging tree, the installed binary
# run from there, and the Debian packages CPack builds, unpacked and read.
#   packaging_test.sh BUILD_DIR
source "$(dirname "$0")/../e2e/lib.sh"
build=$(cd "${1:?usage: packaging_test.sh BUILD_DIR}" && pwd)

stage=$WORK/stage
DESTDIR=$stage cmake --install "$build" --prefix /usr >"$WORK/install.log" 2>&1 && pass ||
  fail "cmake --install failed: $(tail -5 "$WORK/install.log")"
for f in usr/bin/x420 usr/share/man/man1/x420.1 usr/share/bash-completion/completions/x420 \
  usr/share/zsh/vendor-completions/_x420 usr/share/fish/vendor_completions.d/x420.fish \
  usr/lib/systemd/system/x420.service usr/share/doc/x420/README.md usr/share/doc/x420/PRIVACY.md; do
  [[ -f $stage/$f ]] && pass || fail "cmake --install did not write /$f"
done
[[ ! -e $stage/usr/lib/debug ]] && pass || fail "a plain install leaves the debug info out (it is the x420-dbg component)"

# The installed binary works on its own: version, a store, a scan.
installed=$stage/usr/bin/x420
expect_exit 0 "installed x420 --version" "$installed" --version
expect_eq "$OUT" "x420 $("$X420_BIN" --version | cut -d' ' -f2)" "the installed binary is the built one"
expect_exit 0 "installed x420 init" "$installed" init -q
printf 'token = "ghp_%s"\n' "$(printf 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' | cut -c1-36)" >"$WORK/leak.env"
expect_exit 1 "installed x420 scan finds a token" "$installed" scan "$WORK/leak.env"
expect_contains "$OUT" "github" "the installed binary carries the built-in rules"

# The build keeps the debug info apart: the binary has none and names x420.debug, which has it.
if grep -q '^X420_SPLIT_DEBUG:BOOL=ON' "$build/CMakeCache.txt" &&
  grep -Eq '^CMAKE_BUILD_TYPE:STRING=(Release|RelWithDebInfo)$' "$build/CMakeCache.txt"; then
  sections=$(readelf -S --wide "$installed")
  expect_not_contains "$sections" ".debug_info" "the installed binary is stripped of debug info"
  expect_contains "$sections" ".gnu_debuglink" "the binary names its debug file"
  expect_contains "$(readelf -S --wide "$build/x420.debug" 2>/dev/null)" ".debug_info" "x420.debug holds the debug info"
  # A sanitized build's code alone is some 200 MB (ASan's checks, the shells at -O0).
  if ! grep -q '^X420_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    size=$(stat -c %s "$installed")
    ((size < 40 * 1024 * 1024)) && pass || fail "the stripped binary is $size bytes"
  fi
fi

# The man page and the completions work from where they were installed.
if command -v groff >/dev/null; then
  expect_eq "$(groff -man -Tutf8 -ww -z "$stage/usr/share/man/man1/x420.1" 2>&1)" "" "the installed man page renders"
fi
COMPLETED=$(bash -c "source '$stage/usr/share/bash-completion/completions/x420'; COMP_WORDS=(x420 ke); COMP_CWORD=1; _x420; echo \"\${COMPREPLY[*]}\"")
expect_contains "$COMPLETED" "keys" "the installed bash completion completes"

# The systemd unit: hardened, and valid for systemd where systemd-analyze is at hand.
unit=$stage/usr/lib/systemd/system/x420.service
for setting in DynamicUser=yes ProtectSystem=strict StateDirectory=x420 NoNewPrivileges=yes ProtectHome=yes \
  "ExecStart=/usr/bin/x420 serve" "ExecReload=/bin/kill -HUP \$MAINPID"; do
  grep -qF "$setting" "$unit" && pass || fail "the unit lacks $setting"
done
if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's binary exists: point the unit at the staged one.
  sed "s|/usr/bin/x420|$installed|g" "$unit" >"$WORK/x420.service"
  VERIFY=$(systemd-analyze verify --man=no "$WORK/x420.service" 2>&1)
  expect_eq "$VERIFY" "" "systemd-analyze verify accepts the unit"
fi

# The container's entry point (packaging/container-start), run here as the image runs it: the first
# start creates the store on the state volume and keeps the operator token there, a restart does not;
# the image's HEALTHCHECK command, as the Dockerfile writes it, sees serve healthy. (The image itself
# is not built here: this machine has no Docker daemon and no registry for debian:12.)
state=$WORK/state
mkdir -p "$state"
container_env=(env PATH="$(dirname "$X420_BIN"):$PATH" HOME="$state" X420_STATE_DIR="$state"
  XDG_DATA_HOME="$state/data" XDG_CONFIG_HOME="$state/config" XDG_CACHE_HOME="$XDG_CACHE_HOME" X420_LISTEN=127.0.0.1:0)
start_listener "$WORK/container.out" "$WORK/container.log" "${container_env[@]}" "$X420_SOURCE_DIR/packaging/container-start" && pass ||
  fail "container-start did not start serve"
first_pid=$LAST_PID
[[ $(stat -c %a "$state/init.json") == 600 ]] && pass || fail "init.json is readable by others"
[[ $(jq -r .operator_token "$state/init.json") == x420m_* ]] && pass || fail "init.json holds the operator token"
expect_contains "$(cat "$WORK/container.log")" "the operator token is in $state/init.json" "the first start says where the token is"
check=$(sed -n 's/^HEALTHCHECK.* CMD //p' "$X420_SOURCE_DIR/packaging/Dockerfile" | jq -r '.[2]')
[[ -n $check ]] && pass || fail "the Dockerfile has no HEALTHCHECK command"
bash -c "${check//8420/$PORT}" && pass || fail "the image's HEALTHCHECK fails against a running serve"
kill "$first_pid"
wait "$first_pid" 2>/dev/null || true
token_before=$(cat "$state/init.json")
start_listener "$WORK/container.out" "$WORK/container2.log" "${container_env[@]}" "$X420_SOURCE_DIR/packaging/container-start" && pass ||
  fail "container-start did not start serve again"
expect_eq "$(cat "$state/init.json")" "$token_before" "a restart keeps the store and its token"
expect_not_contains "$(cat "$WORK/container2.log")" "created the store" "a restart creates nothing"
kill "$LAST_PID"
wait "$LAST_PID" 2>/dev/null || true

# The Debian packages: dependencies from dpkg-shlibdeps, the files where Debian puts them.
dist=$WORK/dist
(cd "$WORK" && cpack --config "$build/CPackConfig.cmake" -B "$dist") >"$WORK/cpack.log" 2>&1 && pass ||
  fail "cpack failed: $(tail -5 "$WORK/cpack.log")"
deb=$(ls "$dist"/x420_*_amd64.deb 2>/dev/null | head -1)
dbg=$(ls "$dist"/x420-dbg_*_amd64.deb 2>/dev/null | head -1)
[[ -f $deb ]] && pass || fail "no x420 .deb in $dist: $(ls "$dist")"
[[ -f $dbg ]] && pass || fail "no x420-dbg .deb in $dist"
INFO=$(dpkg-deb -I "$deb")
expect_contains "$INFO" "Package: x420" "the package is named x420"
for dep in libsodium23 libvectorscan5 libsqlite3-0 libssl3 libpcre2-8-0 libc6; do
  expect_contains "$INFO" "$dep" "Depends names $dep"
done
expect_contains "$INFO" "Description: keep secrets out of LLM prompts" "the package describes itself"
FILES=$(dpkg-deb -c "$deb")
for f in ./usr/bin/x420 ./usr/share/man/man1/x420.1 ./usr/lib/systemd/system/x420.service \
  ./usr/share/bash-completion/completions/x420; do
  expect_contains "$FILES" "$f" "the .deb holds $f"
done
expect_not_contains "$FILES" ".debug" "the .deb holds no debug info"
expect_contains "$(dpkg-deb -I "$dbg")" "Depends: x420 (=" "x420-dbg depends on its x420"
expect_contains "$(dpkg-deb -c "$dbg")" "./usr/lib/debug/usr/bin/x420.debug" "x420-dbg puts the debug info where gdb looks"
# Unpacked, the packaged binary runs.
dpkg-deb -x "$deb" "$WORK/unpacked"
expect_exit 0 "the packaged binary runs" "$WORK/unpacked/usr/bin/x420" version

finish
