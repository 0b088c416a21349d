#!/bin/bash
set -x
cd /work/wt/h14criu
H=$PWD/husk
T=$(mktemp -d /tmp/dbg.XXXX)
. tests/bats/fixtures.bash
busybox_rootfs $T/b/rootfs >/dev/null 2>&1 || { echo no rootfs; exit 1; }
$H spec --bundle $T/b
mkdir -p $T/out
jq '.process.terminal=false | .root.readonly=true | .process.args=["sh","-c","exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >>/out/count; sleep 1; done"] | .mounts += [{"destination":"/out","type":"bind","source":"'$T/out'","options":["rbind"]}]' $T/b/config.json > $T/c && mv $T/c $T/b/config.json
$H --root $T/st run -d -b $T/b c1 </dev/null >/dev/null 2>&1
sleep 3
cat $T/out/count | tail -1
$H --root $T/st checkpoint --leave-running --image-path $T/img c1; echo rc=$?
$H --root $T/st state c1 | jq -c '{status,pid}'
grep -i "error\|warn" $T/img/dump.log | tail -5
tail -3 $T/img/dump.log
$H --root $T/st restore -d --image-path $T/img -b $T/b c2; echo rc=$?
$H --root $T/st list
grep -i "error" $T/img/restore.log | tail -5
$H --root $T/st delete -f c1; $H --root $T/st delete -f c2
