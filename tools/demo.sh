#!/bin/sh
# The main job on the bundled data, as a new user would run it: train a classifier on the
# Wisconsin breast-cancer table, predict, show the model; then draw synthetic pump cards, train
# the card network on them and diagnose cards. Uses a scratch store.
set -eu
cd "$(dirname "$0")/.."
store=$(mktemp -d "${TMPDIR:-/tmp}/dyn-demo.XXXXXX")
trap 'rm -rf "$store"' EXIT
export DYN_STORE="$store"
echo "\$ dyn fit logreg --label diagnosis --id demo testdata/breast_cancer.csv"
./dyn -v fit logreg --label diagnosis --id demo testdata/breast_cancer.csv
echo "\$ dyn fit svc --label diagnosis --id demo-svc --cv 5 testdata/breast_cancer.csv"
./dyn -v fit svc --label diagnosis --id demo-svc --cv 5 testdata/breast_cancer.csv
echo "\$ dyn models ls"
./dyn --format table models ls
echo "\$ head -6 testdata/breast_cancer.csv | dyn predict demo --keep diagnosis --proba"
head -6 testdata/breast_cancer.csv | ./dyn --format table predict demo --keep diagnosis --proba
echo "\$ dyn predict demo-svc testdata/service/predict_request.json   # the services' JSON shape"
./dyn predict demo-svc testdata/service/predict_request.json | head -4
echo "..."
echo "\$ dyn mark generate --pump --per-marker 30 --points cards.csv   # 20 markers"
dyn=$(pwd)/dyn
cd "$store"
"$dyn" --seed 1 mark generate --pump --per-marker 30 --points cards.csv
echo "\$ dyn fit dynamogram --epochs 15 --width 8 --points 64 --id demo-pump cards.csv"
"$dyn" -v fit dynamogram --epochs 15 --width 8 --points 64 --lr 0.01 --id demo-pump cards.csv
echo "\$ dyn predict demo-pump cards.csv --top 2 | head -4"
"$dyn" --format table predict demo-pump cards.csv --top 2 | head -4
