#!/bin/sh
# Writes testdata/video/pattern-64x48.mp4, the tiny video of tests/unit/t_video.c: 16 frames of
# 64x48 4:2:0, losslessly coded H.264 (libx264 -qp 0), so decoded samples equal the pattern:
# frame N has luma Y(x, y) = 16 + (3x + 2y + 7N) mod 220, chroma Cb = 64 + 8N, Cr = 192 - 6N.
# Needs the ffmpeg CLI (tools/bench-packages). usage: sh tools/make-test-video.sh
set -eu
cd "$(dirname "$0")/.."
ffmpeg -v error -y -f lavfi -i color=black:s=64x48:r=30:d=1 -frames:v 16 \
	-vf "format=yuv420p,geq=lum='16+mod(3*X+2*Y+7*N,220)':cb='64+8*N':cr='192-6*N'" \
	-c:v libx264 -qp 0 -preset medium -threads 1 -pix_fmt yuv420p \
	-fflags +bitexact -flags:v +bitexact -map_metadata -1 \
	testdata/video/pattern-64x48.mp4
