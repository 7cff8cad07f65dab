#!/bin/bash
# Issue 12 closing measurement: 5M-tick Avro and CSV replays, before (4cffbef) / after (7df08ad) / HEAD, interleaved.
cd /tmp/r12
for round in 1 2 3; do
  for fmt in avro csv; do
    for tree in 4cffbef 7df08ad main; do
      dir=/tmp/r-$tree; [ $tree = main ] && dir=/work/main
      s=$(date +%s.%N)
      TE_LOG_LEVEL=warn /usr/bin/time -f "%M" -o /tmp/r12/rss.txt node $dir/dist/src/cli/main.js replay --file /tmp/r12/ticks.$fmt --out /tmp/r12/out-$tree-$fmt.jsonl 2>/tmp/r12/err-$tree-$fmt.txt
      rc=$?
      e=$(date +%s.%N)
      echo "round=$round fmt=$fmt tree=$tree rc=$rc wall=$(echo "$e - $s" | bc) rssKB=$(cat /tmp/r12/rss.txt) cpu=$(grep -o '[0-9.]* s CPU' /tmp/r12/err-$tree-$fmt.txt | head -1) lines=$(wc -l < /tmp/r12/out-$tree-$fmt.jsonl) sha=$(sha256sum < /tmp/r12/out-$tree-$fmt.jsonl | cut -c1-16)"
    done
  done
done
