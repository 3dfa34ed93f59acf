/* Files for unit tests: one temporary folder a test (fx_dir), files written into it, files
 * read back whole, and archives of members written through libarchive. Header-only: a test
 * includes it and calls what it needs. A helper that cannot do its job ends the test (exit 1):
 * a test whose fixture is missing must not pass. */
#ifndef DYN_TESTS_FIXTURE_H
#define DYN_TESTS_FIXTURE_H

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

static char fx_dir[256];

/* Makes fx_dir, $TMPDIR/dyn-NAME.XXXXXX (or under /tmp). */
static inline void fx_mkdir(const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(fx_dir, sizeof(fx_dir), "%s/dyn-%s.XXXXXX", t && *t ? t : "/tmp", name);
	if (!mkdtemp(fx_dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

/* Removes fx_dir and what it holds. */
static inline void fx_rmdir(void)
{
	struct strbuf cmd = STRBUF_INIT;
	strbuf_addf(&cmd, "rm -rf '%s'", fx_dir);
	if (system(cmd.buf) != 0)
		fprintf(stderr, "cannot remove %s\n", fx_dir);
	strbuf_release(&cmd);
}

/* fx_dir/name (caller frees). */
static inline char *fx_path(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", fx_dir, name);
	return strbuf_detach(&sb, NULL);
}

/* Writes fx_dir/name; returns its path (caller frees). */
static inline char *fx_write(const char *name, const void *data, size_t len)
{
	char *p = fx_path(name);
	FILE *fp = fopen(p, "wb");
	if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
		fprintf(stderr, "cannot write %s\n", p);
		exit(1);
	}
	return p;
}

static inline char *fx_write_str(const char *name, const char *s)
{
	return fx_write(name, s, strlen(s));
}

/* The whole file, NUL-terminated, its length in *len; NULL (and 0) when it cannot be opened. */
static inline char *fx_slurp(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "rb");
	*len = 0;
	if (!fp)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	*len = sb.len;
	return strbuf_detach(&sb, NULL);
}

/* An archive member: a file of len bytes (len 0: strlen(data)), or a folder (data NULL). */
struct fx_member {
	const char *name;
	const void *data;
	size_t len;
};

/* Writes the members to path with libarchive: format one of ARCHIVE_FORMAT_*, filter
 * ARCHIVE_FILTER_*. Returns 0, or -1 when this libarchive cannot write it. */
static inline int fx_archive(const char *path, int format, int filter, const struct fx_member *m,
			     size_t n)
{
	struct archive *a = archive_write_new();
	int ret = -1;
	if (archive_write_add_filter(a, filter) != ARCHIVE_OK ||
	    archive_write_set_format(a, format) != ARCHIVE_OK ||
	    archive_write_open_filename(a, path) != ARCHIVE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *en = archive_entry_new();
		size_t len = !m[i].data ? 0 : m[i].len ? m[i].len : strlen(m[i].data);
		archive_entry_set_pathname(en, m[i].name);
		archive_entry_set_filetype(en, m[i].data ? AE_IFREG : AE_IFDIR);
		archive_entry_set_perm(en, m[i].data ? 0644 : 0755);
		archive_entry_set_size(en, (la_int64_t)len);
		if (archive_write_header(a, en) != ARCHIVE_OK) {
			archive_entry_free(en);
			goto out;
		}
		if (len && archive_write_data(a, m[i].data, len) != (la_ssize_t)len) {
			archive_entry_free(en);
			goto out;
		}
		archive_entry_free(en);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto out;
	ret = 0;
out:
	archive_write_free(a);
	return ret;
}

#endif
