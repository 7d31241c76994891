#!/usr/bin/env bash
# bench/run.sh: the engine's figures, as the issue asks for them. Needs
# hyperfine and make (apt-get install -y hyperfine make) and GNU time.
#   bash bench/run.sh            # everything
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/fastdag" .
go run ./bench/gen -kind shell -n 500 > "$out/shell.yaml"
go run ./bench/gen -kind make -n 500 > "$out/Makefile"
go run ./bench/gen -kind chain -n 10000 > "$out/chain10k.yaml"
go run ./bench/gen -kind chain -n 100000 > "$out/chain100k.yaml"
go run ./bench/gen -kind fanout -n 5000 > "$out/fanout.yaml"
cd "$out"

echo "== in-process scheduler (go test -bench)"
(cd "$OLDPWD" && go test -run '^$' -bench 'Chain|Fanout' -benchtime 5x ./pkg/dag/)

echo "== 500 shell 'true' nodes at -j2 vs make -j2"
hyperfine -N --warmup 2 --runs 10 \
	"./fastdag run -q -j2 --state-dir $out/st shell.yaml" \
	"make -s -j2 -f Makefile"

echo "== chains, whole process (load + validate + run + record)"
hyperfine -N --warmup 1 --runs 5 \
	"./fastdag run -q -j2 --state-dir $out/st chain10k.yaml" \
	"./fastdag run -q -j2 --state-dir $out/st chain100k.yaml"

echo "== peak RSS, 100,000-node chain"
/usr/bin/time -f "max RSS %M KB, %e s" ./fastdag run -q -j2 --state-dir "$out/st" chain100k.yaml

echo "== start-up"
hyperfine -N --warmup 5 --runs 50 "./fastdag --version"
