/* Growable strings. struct strbuf is an embedded value: strbuf_init / strbuf_release. */
#ifndef DYN_BASE_STRBUF_H
#define DYN_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* always NUL-terminated; owned by the strbuf */
	size_t len;
	size_t alloc;
};

/* The buffer of every empty strbuf that owns none: "", never written. */
extern char strbuf_empty[1];

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		strbuf_empty, 0, 0                                                                 \
	}

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hands the buffer to the caller (free with free()) and re-initialises sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Reads until EOF; returns 0 or -1 with errno set. */
int strbuf_read_fd(struct strbuf *sb, int fd);
/* Text of a double in the C locale that reads back to the same value (%.17g, shortest form);
 * fmt_double writes it to buf (NUL-terminated) and returns its length. */
size_t fmt_double(char buf[32], double v);
void strbuf_add_double(struct strbuf *sb, double v);

#endif
