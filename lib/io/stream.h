/* Byte streams for the record readers (lib/io) and the card reader (lib/cards): a file or stdin
 * read with read(2) in large chunks, transparently decompressed (gzip, xz, zstd, bzip2) or split
 * into the members of an archive (zip, tar, 7z, possibly compressed), all through libarchive. */
#ifndef DYN_IO_STREAM_H
#define DYN_IO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

struct stream;

/* Opens path ("-" or NULL: standard input). Errors name the path: a missing file, a
 * directory, an unreadable or corrupt compressed file. *s is owned by the caller. */
int stream_open(struct stream **s, const char *path, struct err *e);
void stream_free(struct stream **s);

/* "stdin" or the path as given. */
const char *stream_name(const struct stream *s);
/* True when the input was compressed (its name may end in a compression suffix). */
bool stream_compressed(const struct stream *s);
/* True when the input is an archive: read its members with stream_next_member. */
bool stream_is_archive(const struct stream *s);

/* Bounds on what one input may decompress to, so that a decompression bomb is stopped while
 * it is read: at most max_bytes handed out by stream_read in all (every member of an
 * archive; 0: STREAM_MAX_BYTES for compressed input and archives, no limit for plain files),
 * and, once STREAM_RATIO_FROM bytes are out, at most max_ratio (0: STREAM_MAX_RATIO) times
 * the compressed bytes read so far. Over either, stream_read fails naming the input (and
 * member). Set them before the first read. */
#define STREAM_MAX_BYTES  ((uint64_t)16 << 30)
#define STREAM_MAX_RATIO  250.0
#define STREAM_RATIO_FROM ((uint64_t)64 << 20)
void stream_set_limits(struct stream *s, uint64_t max_bytes, double max_ratio);
/* The process's defaults in place of STREAM_MAX_BYTES and STREAM_MAX_RATIO (dyn sets them from
 * DYN_MAX_DECOMPRESSED and DYN_MAX_RATIO); 0 keeps a default. Call before opening streams. */
void stream_default_limits(uint64_t max_bytes, double max_ratio);

/* The first bytes of a plain (not compressed, not archive) input not read yet, without
 * consuming them: *len of them (at least 512 unless the input is shorter or a line ended
 * sooner), or NULL. Valid until the next stream call. */
const char *stream_peek(const struct stream *s, size_t *len);

/* Advances to the next regular file member of an archive: 1 with *name set (valid until the
 * next call), 0 after the last, -1 on error. A member with an absolute name or a ".."
 * component is an error naming the archive and the member (also when opening, for the
 * first). */
int stream_next_member(struct stream *s, const char **name, struct err *e);

/* Reads up to cap bytes of the file (or of the current member): the count, 0 at its end, -1
 * on error. */
ssize_t stream_read(struct stream *s, char *buf, size_t cap, struct err *e);

#endif
