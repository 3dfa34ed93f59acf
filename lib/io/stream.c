/* Byte streams: plain files and stdin through read(2); compressed files and archives, detected
 * by their magic bytes whatever their name, through libarchive (raw format + all filters). */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/stream.h"
#include "base/base.h"
#include "base/lazylib.h"

/* Enough for every magic we look for (tar's "ustar" sits at offset 257). */
#define PEEK_MIN      512
#define PEEK_CAP      65536
#define ARCHIVE_BLOCK (1 << 20)

static ssize_t stream_read_raw(struct stream *s, char *buf, size_t cap, struct err *e);

struct stream {
	int fd;
	bool own_fd;
	char *name;
	/* Bytes read while sniffing, served before the rest of fd. */
	char *peek;
	size_t peek_len, peek_pos;
	struct archive *a;
	bool compressed, archive;
	bool first_pending; /* the first member's header was read while opening */
	bool at_eof;	    /* the (empty) compressed stream has no data */
	off_t start;	    /* offset of fd when opened (-1: not seekable) */
	char *member;
	/* Bytes handed out so far (all members of an archive), and the limits on them. */
	uint64_t total, max_bytes;
	double max_ratio;
};

/* libarchive is loaded for the first compressed file or archive, not when dyn starts
 * (base/lazylib.h says why); plain files never need it. */
#define ARCHIVE_FUNCS(X)                                                                           \
	X(archive_entry_filetype)                                                                  \
	X(archive_entry_pathname)                                                                  \
	X(archive_error_string)                                                                    \
	X(archive_filter_bytes)                                                                    \
	X(archive_format)                                                                          \
	X(archive_read_data)                                                                       \
	X(archive_read_free)                                                                       \
	X(archive_read_new)                                                                        \
	X(archive_read_next_header)                                                                \
	X(archive_read_open)                                                                       \
	X(archive_read_open_fd)                                                                    \
	X(archive_read_support_filter_all)                                                         \
	X(archive_read_support_format_7zip)                                                        \
	X(archive_read_support_format_empty)                                                       \
	X(archive_read_support_format_raw)                                                         \
	X(archive_read_support_format_tar)                                                         \
	X(archive_read_support_format_zip)                                                         \
	X(archive_set_error)

static struct {
	ARCHIVE_FUNCS(LAZYLIB_MEMBER)
} ar_fn;

static int archive_load(struct err *e, const char *name)
{
	static int loaded;
	return LAZYLIB_LOAD(ARCHIVE_FUNCS, ar_fn, "libarchive.so.13", &loaded, name, e);
}

static ssize_t read_full(int fd, char *buf, size_t cap)
{
	ssize_t n;
	do
		n = read(fd, buf, cap);
	while (n < 0 && errno == EINTR);
	return n;
}

static bool has_magic(const unsigned char *p, size_t n)
{
	static const unsigned char gz[] = {0x1f, 0x8b};
	static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
	static const unsigned char zst[] = {0x28, 0xb5, 0x2f, 0xfd};
	static const unsigned char bz2_block[] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
	static const unsigned char zip[] = {'P', 'K'};
	static const unsigned char sz[] = {'7', 'z', 0xbc, 0xaf, 0x27, 0x1c};

	if (n >= 2 && !memcmp(p, gz, 2))
		return true;
	if (n >= 6 && !memcmp(p, xz, 6))
		return true;
	if (n >= 4 && !memcmp(p, zst, 4))
		return true;
	/* "BZh" could start a CSV header: require the block size digit and the block magic. */
	if (n >= 10 && !memcmp(p, "BZh", 3) && p[3] >= '1' && p[3] <= '9' &&
	    !memcmp(p + 4, bz2_block, 6))
		return true;
	if (n >= 4 && !memcmp(p, zip, 2) &&
	    ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6) || (p[2] == 7 && p[3] == 8)))
		return true;
	if (n >= 6 && !memcmp(p, sz, 6))
		return true;
	if (n >= 262 && !memcmp(p + 257, "ustar", 5))
		return true;
	return false;
}

/* libarchive's messages start with a capital; ours are lowercase. */
static int arch_err(struct err *e, const char *name, struct archive *a)
{
	const char *m = ar_fn.archive_error_string(a);
	char first;
	if (!m)
		m = "unreadable archive or compressed data";
	first = m[0];
	if (isupper((unsigned char)first) && islower((unsigned char)m[1]))
		first = (char)tolower((unsigned char)first);
	return err_set(e, DYN_EDATA, "%s: %c%s", name, first, m[0] ? m + 1 : "");
}

/* A member that would land outside a directory it were extracted to: an absolute name or a
 * ".." component. dyn extracts nothing, but names are shown and used as labels, and such an
 * archive is hostile or broken: it is refused. */
static int member_check(const struct stream *s, const char *m, struct err *e)
{
	const char *p = m;
	if (m[0] == '/' || m[0] == '\\' || (isalpha((unsigned char)m[0]) && m[1] == ':'))
		return err_set(e, DYN_EDATA, "%s: member \"%s\": absolute name (refused)", s->name,
			       m);
	while (*p) {
		size_t len = strcspn(p, "/\\");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return err_set(e, DYN_EDATA,
				       "%s: member \"%s\": \"..\" in its name (refused)", s->name,
				       m);
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

/* libarchive's read callback for pipes: the sniffed bytes first, then fd. */
static la_ssize_t stream_arch_read(struct archive *a, void *data, const void **buf)
{
	struct stream *s = data;
	ssize_t n;
	if (s->peek_pos < s->peek_len) {
		*buf = s->peek + s->peek_pos;
		n = (ssize_t)(s->peek_len - s->peek_pos);
		s->peek_pos = s->peek_len;
		return n;
	}
	if (s->peek_len < ARCHIVE_BLOCK) {
		s->peek = xrealloc(s->peek, ARCHIVE_BLOCK);
		s->peek_len = s->peek_pos = ARCHIVE_BLOCK;
	}
	n = read_full(s->fd, s->peek, ARCHIVE_BLOCK);
	if (n < 0) {
		ar_fn.archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	*buf = s->peek;
	return n;
}

static int stream_open_archive(struct stream *s, struct err *e)
{
	struct archive_entry *entry;
	struct stat st;
	int r;

	if (archive_load(e, s->name) < 0)
		return -1;
	s->a = ar_fn.archive_read_new();
	ar_fn.archive_read_support_filter_all(s->a);
	/* Only the formats dyn reads: others (mtree, ...) could claim plain text. */
	ar_fn.archive_read_support_format_zip(s->a);
	ar_fn.archive_read_support_format_tar(s->a);
	ar_fn.archive_read_support_format_7zip(s->a);
	ar_fn.archive_read_support_format_raw(s->a);
	ar_fn.archive_read_support_format_empty(s->a);
	/* Only a file read from its start can be handed to libarchive to seek in (standard
	 * input may be a file already partly read by the shell). */
	if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode) && s->start == 0 &&
	    lseek(s->fd, 0, SEEK_SET) == 0) {
		/* Seekable: libarchive can use the zip central directory and 7z. */
		s->peek_len = s->peek_pos = 0;
		r = ar_fn.archive_read_open_fd(s->a, s->fd, ARCHIVE_BLOCK);
	} else {
		/* 7z keeps its directory at the end: libarchive must seek to read it. */
		if (s->peek_len >= 6 && !memcmp(s->peek, "7z\xbc\xaf\x27\x1c", 6))
			return err_set(
			    e, DYN_EDATA,
			    "%s: a 7z archive cannot be read from a pipe (give its path)", s->name);
		r = ar_fn.archive_read_open(s->a, s, NULL, stream_arch_read, NULL);
	}
	if (r != ARCHIVE_OK)
		return arch_err(e, s->name, s->a);
	r = ar_fn.archive_read_next_header(s->a, &entry);
	if (r == ARCHIVE_EOF && ar_fn.archive_format(s->a) != ARCHIVE_FORMAT_EMPTY &&
	    ar_fn.archive_format(s->a) != ARCHIVE_FORMAT_RAW)
		/* "empty input" would puzzle: a tar's end is zeros, so NUL bytes read as one */
		return err_set(e, DYN_EDATA, "%s: an archive without members%s", s->name,
			       (ar_fn.archive_format(s->a) & ARCHIVE_FORMAT_BASE_MASK) ==
				       ARCHIVE_FORMAT_TAR
				   ? " (NUL bytes read as an empty tar archive)"
				   : "");
	if (r == ARCHIVE_EOF) {
		s->compressed = true;
		s->at_eof = true;
		return 0;
	}
	if (r < ARCHIVE_WARN)
		return arch_err(e, s->name, s->a);
	switch (ar_fn.archive_format(s->a)) {
	case ARCHIVE_FORMAT_RAW:
		s->compressed = true;
		break;
	case ARCHIVE_FORMAT_EMPTY:
		s->compressed = true;
		s->at_eof = true;
		break;
	default:
		s->archive = true;
		s->first_pending = true;
		free(s->member);
		s->member = xstrdup(
		    ar_fn.archive_entry_pathname(entry) ? ar_fn.archive_entry_pathname(entry) : "");
		if (member_check(s, s->member, e) < 0)
			return -1;
		s->at_eof = ar_fn.archive_entry_filetype(entry) != AE_IFREG;
		break;
	}
	return 0;
}

int stream_open(struct stream **out, const char *path, struct err *e)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	struct stat st;
	int ret = -1;

	if (!path || !strcmp(path, "-")) {
		s->fd = 0;
		s->name = xstrdup("stdin");
	} else {
		s->name = xstrdup(path);
		s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0) {
			err_sys(e, "\"%s\"", path);
			goto out;
		}
		s->own_fd = true;
	}
	if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(e, DYN_EDATA, "%s: is a directory", s->name);
		goto out;
	}
	s->start = lseek(s->fd, 0, SEEK_CUR);
	s->peek = xmalloc(PEEK_CAP);
	/* Text with a newline early on cannot be a tar header (a file name comes first): stop
	 * there, so that a pipe feeding one line at a time is not kept waiting. */
	while (s->peek_len < PEEK_MIN && !memchr(s->peek, '\n', s->peek_len)) {
		ssize_t n = read_full(s->fd, s->peek + s->peek_len, PEEK_CAP - s->peek_len);
		if (n < 0) {
			err_sys(e, "%s", s->name);
			goto out;
		}
		if (n == 0)
			break;
		s->peek_len += (size_t)n;
	}
	if (has_magic((const unsigned char *)s->peek, s->peek_len) && stream_open_archive(s, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		stream_free(&s);
	*out = s;
	return ret;
}

void stream_free(struct stream **sp)
{
	struct stream *s = *sp;
	if (!s)
		return;
	if (s->a)
		ar_fn.archive_read_free(s->a);
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	free(s->peek);
	free(s->name);
	free(s->member);
	free(s);
	*sp = NULL;
}

const char *stream_name(const struct stream *s)
{
	return s->name;
}

bool stream_compressed(const struct stream *s)
{
	return s->compressed;
}

bool stream_is_archive(const struct stream *s)
{
	return s->archive;
}

int stream_next_member(struct stream *s, const char **name, struct err *e)
{
	struct archive_entry *entry;
	int r;
	if (!s->archive)
		return 0;
	for (;;) {
		if (s->first_pending) {
			s->first_pending = false;
			if (!s->at_eof) {
				*name = s->member;
				return 1;
			}
		}
		r = ar_fn.archive_read_next_header(s->a, &entry);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return arch_err(e, s->name, s->a);
		free(s->member);
		s->member = xstrdup(
		    ar_fn.archive_entry_pathname(entry) ? ar_fn.archive_entry_pathname(entry) : "");
		if (member_check(s, s->member, e) < 0)
			return -1;
		if (ar_fn.archive_entry_filetype(entry) != AE_IFREG)
			continue;
		s->at_eof = false;
		*name = s->member;
		return 1;
	}
}

static uint64_t default_max_bytes = STREAM_MAX_BYTES;
static double default_max_ratio = STREAM_MAX_RATIO;

void stream_default_limits(uint64_t max_bytes, double max_ratio)
{
	if (max_bytes)
		default_max_bytes = max_bytes;
	if (max_ratio > 0)
		default_max_ratio = max_ratio;
}

void stream_set_limits(struct stream *s, uint64_t max_bytes, double max_ratio)
{
	s->max_bytes = max_bytes;
	s->max_ratio = max_ratio;
}

const char *stream_peek(const struct stream *s, size_t *len)
{
	*len = 0;
	if (s->a || s->peek_pos >= s->peek_len)
		return NULL;
	*len = s->peek_len - s->peek_pos;
	return s->peek + s->peek_pos;
}

/* Counts n more bytes handed out and checks them against the limits. */
static int stream_account(struct stream *s, size_t n, struct err *e)
{
	uint64_t max = s->max_bytes;
	double ratio = s->max_ratio > 0 ? s->max_ratio : default_max_ratio;
	const char *what = s->archive ? s->member : NULL;
	s->total += n;
	if (!max && s->a)
		max = default_max_bytes;
	if (max && s->total > max)
		return err_set(e, DYN_EDATA, "%s%s%s: more than %llu bytes%s (the limit)", s->name,
			       what ? ":" : "", what ? what : "", (unsigned long long)max,
			       s->a ? " decompressed" : "");
	if (s->a && s->total > STREAM_RATIO_FROM) {
		la_int64_t raw = ar_fn.archive_filter_bytes(s->a, -1);
		if (raw > 0 && (double)s->total > ratio * (double)raw)
			return err_set(e, DYN_EDATA,
				       "%s%s%s: decompresses to more than %.0f times its size "
				       "(%llu bytes from %lld: a decompression bomb?)",
				       s->name, what ? ":" : "", what ? what : "", ratio,
				       (unsigned long long)s->total, (long long)raw);
	}
	return 0;
}

ssize_t stream_read(struct stream *s, char *buf, size_t cap, struct err *e)
{
	ssize_t n;
	/* Decompressed data comes at most a block at a time, so that the limits are checked
	 * before a bomb's output can pile up in the caller's buffer. */
	if (s->a && cap > ARCHIVE_BLOCK)
		cap = ARCHIVE_BLOCK;
	n = stream_read_raw(s, buf, cap, e);
	if (n > 0 && stream_account(s, (size_t)n, e) < 0)
		return -1;
	return n;
}

static ssize_t stream_read_raw(struct stream *s, char *buf, size_t cap, struct err *e)
{
	ssize_t n;
	if (!s->a) {
		if (s->peek_pos < s->peek_len) {
			size_t k = s->peek_len - s->peek_pos;
			if (k > cap)
				k = cap;
			memcpy(buf, s->peek + s->peek_pos, k);
			s->peek_pos += k;
			return (ssize_t)k;
		}
		n = read_full(s->fd, buf, cap);
		if (n < 0)
			return err_sys(e, "%s", s->name);
		return n;
	}
	if (s->at_eof)
		return 0;
	n = ar_fn.archive_read_data(s->a, buf, cap);
	if (n < 0) {
		if (s->archive) {
			struct strbuf where = STRBUF_INIT;
			strbuf_addf(&where, "%s:%s", s->name, s->member);
			arch_err(e, where.buf, s->a);
			strbuf_release(&where);
			return -1;
		}
		return arch_err(e, s->name, s->a);
	}
	if (n == 0)
		s->at_eof = true;
	return n;
}
