#!/bin/sh
# The main job on the bundled data, as a new user would run it: train a classifier on the
# Wisconsin breast-cancer table, predict, show the model. Uses a scratch store.
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
