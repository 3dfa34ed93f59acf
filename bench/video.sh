#!/bin/sh
# Decoding speed of lib/vision/video (bench/video_read.c: decode, convert to gray, scale, touch
# the pixels) on the openfield video (2,330 frames of 640x480 H.264 4:4:4) at a keypoint
# network's input sizes, against the ffmpeg CLI doing the same work (decode, scale with the same
# libswscale flags, raw gray frames into /dev/null), in one run: runs alternated, medians, ratio.
# Then one run of each with a single decoding thread, and one of a YUV4MPEG2 pipe.
# usage: sh bench/video.sh [RUNS] [VIDEO]    (after make; needs ffmpeg and time from Debian)
set -eu
RUNS=${1:-5}
V=${2:-../shared/data/pose/openfield/videos/m3v1mp4.mp4}
OUT=${OUT:-bench/out/video}
for tool in ffmpeg /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "video.sh: $tool not found; apt-get install ffmpeg time" >&2
		exit 1
	}
done
[ -f "$V" ] || { echo "video.sh: no video $V" >&2; exit 1; }
mkdir -p "$OUT"
[ -f build/libdyn.a ] || make -s build/libdyn.a
libs=$(printf 'print-libs:\n\t@echo $(LIBS)\n' | make -s -f Makefile -f - print-libs)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -o "$OUT/video_read" bench/video_read.c build/libdyn.a $libs

# run NAME CMD...: appends "wall cpu rss_kib" to $OUT/NAME.times
run() {
	name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$OUT/t" "$@" >"$OUT/last.out" 2>&1 || {
		cat "$OUT/last.out" >&2
		exit 1
	}
	awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$OUT/t" >>"$OUT/$name.times"
}
median() { # median COLUMN FILE
	awk -v c="$1" '{ print $c }' "$2" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
ffdecode() { # ffdecode NAME THREADS WxH
	run "$1" ffmpeg -nostdin -v error -threads "$2" -i "$V" \
		-vf "scale=${3%x*}:${3#*x}:flags=bilinear+accurate_rnd+full_chroma_int" \
		-pix_fmt gray -f rawvideo -y /dev/null
}

frames=$(ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$V")
echo "video: $V, $frames frames; $(ffmpeg -version | head -1 | cut -d' ' -f1-3); $(nproc) cores"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$OUT"/*.times
for size in 160x128 320x240; do
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		# Alternate who goes first, so that neither always meets the other's cache or load.
		if [ $((i % 2)) -eq 0 ]; then
			run "dyn-$size" "$OUT/video_read" "$V" "$size" gray 0
			ffdecode "ffmpeg-$size" 0 "$size"
		else
			ffdecode "ffmpeg-$size" 0 "$size"
			run "dyn-$size" "$OUT/video_read" "$V" "$size" gray 0
		fi
		i=$((i + 1))
	done
done
run dyn-1thread "$OUT/video_read" "$V" 160x128 gray 1
ffdecode ffmpeg-1thread 1 160x128
ffmpeg -nostdin -v error -i "$V" -f yuv4mpegpipe - | "$OUT/video_read" - 160x128 gray >"$OUT/y4m.out"

printf '%-22s %10s %10s %12s %12s %9s\n' "decode to gray" "wall s" "cpu s" "frames/s" "frames/cpu-s" "RSS MiB"
for name in dyn-160x128 ffmpeg-160x128 dyn-320x240 ffmpeg-320x240 dyn-1thread ffmpeg-1thread; do
	f=$OUT/$name.times
	w=$(median 1 "$f")
	c=$(median 2 "$f")
	m=$(median 3 "$f")
	awk -v n="$name" -v w="$w" -v c="$c" -v m="$m" -v fr="$frames" -v r="$(wc -l <"$f")" \
		'BEGIN { printf "%-22s %10.2f %10.2f %12.1f %12.1f %9.1f  (median of %d)\n", n, w, c, fr / w, fr / c, m / 1024, r }'
done
for size in 160x128 320x240; do
	awk -v s="$size" -v dw="$(median 1 "$OUT/dyn-$size.times")" -v fw="$(median 1 "$OUT/ffmpeg-$size.times")" \
		-v dc="$(median 2 "$OUT/dyn-$size.times")" -v fc="$(median 2 "$OUT/ffmpeg-$size.times")" \
		'BEGIN { printf "dyn/ffmpeg frames/s at %s: %.2f wall, %.2f cpu\n", s, fw / dw, fc / dc }'
done
echo "yuv4mpeg pipe (ffmpeg -f yuv4mpegpipe - | video_read - 160x128; its own time is the reader's):"
sed 's/^/  /' "$OUT/y4m.out"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
