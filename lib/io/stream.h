/* Byte streams for the record readers (private to lib/io): a file or stdin read with read(2)
 * in large chunks, transparently decompressed (gzip, xz, zstd, bzip2) or split into the
 * members of an archive (zip, tar, 7z, possibly compressed), all through libarchive. */
#ifndef DYN_IO_STREAM_H
#define DYN_IO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
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

/* Advances to the next regular file member of an archive: 1 with *name set (valid until the
 * next call), 0 after the last, -1 on error. */
int stream_next_member(struct stream *s, const char **name, struct err *e);

/* Reads up to cap bytes of the file (or of the current member): the count, 0 at its end, -1
 * on error. */
ssize_t stream_read(struct stream *s, char *buf, size_t cap, struct err *e);

#endif
