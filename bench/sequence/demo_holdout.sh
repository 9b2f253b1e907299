#!/usr/bin/env bash
# Sourced by bench/sequence/dp.sh and dp_conditional.sh: their holdout, one copy.
# demo_holdout DATA OUT_CSV: the demo set's NoDur, HiTec, Enrgy, Utils from 2018-01-01 to 2021-12-31 as log returns
# (percent → log(1 + p/100), %.17g), header Date,NoDur,HiTec,Enrgy,Utils.
demo_holdout() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "Date,NoDur,HiTec,Enrgy,Utils"; next }
    $1 >= "2018-01-01" && $1 <= "2021-12-31" {
      printf "%s", $1
      n = split("NoDur HiTec Enrgy Utils", names, " ")
      for (j = 1; j <= n; j++) printf ",%.17g", log(1 + $(col[names[j]]) / 100)
      printf "\n" }' "$1" > "$2"
}
