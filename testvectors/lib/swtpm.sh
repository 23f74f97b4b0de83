# shellcheck shell=bash
# swtpm lifecycle for the generator: manufacture a private state, start `swtpm socket` on 127.0.0.1,
# stop it by PID. Requires common.sh. Sets SWTPM_PID, SWTPM_PORT and exports TPM2TOOLS_TCTI.

SWTPM_PID=""
SWTPM_PORT=""

# Manufacture a fresh TPM 2.0 state in DIR (sha256 bank only) with a private, empty swtpm_setup config.
swtpm_manufacture() {
  local dir=$1 logf=$2
  mkdir -p "$dir/state" "$dir/xdg"
  printf '# private swtpm_setup config for gen-quote.sh (no EK certificates needed)\n' > "$dir/swtpm_setup.conf"
  XDG_CONFIG_HOME="$dir/xdg" swtpm_setup --tpm2 --tpmstate "dir://$dir/state" --config "$dir/swtpm_setup.conf" \
    --pcr-banks sha256 --overwrite --logfile "$logf" >/dev/null 2>&1 \
    || { cat "$logf" >&2; fail "swtpm_setup failed"; }
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Start `swtpm socket` on a random free port pair P, P+1 (libtss2-tcti-swtpm needs ctrl = P+1); retry on clashes.
swtpm_start() {
  local dir=$1 logf=$2 port i
  for _ in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if tcp_open "$port" || tcp_open $((port + 1)); then continue; fi
    swtpm socket --tpm2 --tpmstate "dir=$dir/state" \
      --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
      --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
      --flags not-need-init --log "file=$logf,level=1" &
    SWTPM_PID=$!
    # Wait (max ~5 s) until both ports accept; a bind clash makes swtpm exit, then try another pair.
    for i in $(seq 1 100); do
      kill -0 "$SWTPM_PID" 2>/dev/null || break
      if tcp_open "$port" && tcp_open $((port + 1)); then
        SWTPM_PORT=$port
        export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
        return 0
      fi
      sleep 0.05
    done
    swtpm_stop
  done
  fail "could not start swtpm on a free 127.0.0.1 port pair"
}

# Stop the swtpm we started, by its PID: SIGTERM, then SIGKILL after 5 s. Idempotent.
swtpm_stop() {
  local pid=$SWTPM_PID
  SWTPM_PID=""
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "swtpm $pid ignored SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
}

# Flush transient objects and sessions: swtpm holds only 3 loaded objects and tpm2-tools runs without a resource manager.
tpm_flush() { tpm2_flushcontext -t >/dev/null 2>&1 || true; tpm2_flushcontext -s >/dev/null 2>&1 || true; }
