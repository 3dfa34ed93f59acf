/* Helpers shared by the commands: error reporting, option parsing, output set-up. */
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <utf8proc.h>

#include "cmd.h"
#include "io/output.h"

/* Writes "dyn: MSG" as one line on stderr. Messages quote what users gave (file names, column
 * names, ids, values): a control character in them (an escape sequence that retitles or
 * recolours the terminal, a newline that forges a second message) is written escaped, as
 * are bytes that are not UTF-8 and the C1 controls U+0080-U+009F; other UTF-8 is kept. */
static void print_message(const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)msg;
	size_t n = strlen(msg), i = 0;
	strbuf_adds(&sb, "dyn: ");
	while (i < n) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0) {
			strbuf_addf(&sb, "\\x%02x", p[i]);
			i++;
		} else if (cp == '\n') {
			strbuf_adds(&sb, "\\n");
			i++;
		} else if (cp == '\t') {
			strbuf_adds(&sb, "\\t");
			i++;
		} else if (cp == '\r') {
			strbuf_adds(&sb, "\\r");
			i++;
		} else if (cp < 0x20 || cp == 0x7f) {
			strbuf_addf(&sb, "\\x%02x", (unsigned)cp);
			i++;
		} else if (cp >= 0x80 && cp <= 0x9f) {
			strbuf_addf(&sb, "\\u%04x", (unsigned)cp);
			i += (size_t)k;
		} else {
			strbuf_add(&sb, p + i, (size_t)k);
			i += (size_t)k;
		}
	}
	strbuf_addch(&sb, '\n');
	fputs(sb.buf, stderr);
	strbuf_release(&sb);
}

int report_err(const struct err *e)
{
	print_message(e->msg[0] ? e->msg : "unknown error");
	return e->code ? e->code : DYN_EDATA;
}

int usage_error(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	print_message(sb.buf);
	strbuf_release(&sb);
	return DYN_EUSAGE;
}

static int parse_cmd_options_(int argc, char **argv, const struct opt *opts, const char *usage,
			      int *rc, struct err *ep);

/* The command's options followed by the global ones (hidden from its help). Caller frees. */
static struct opt *with_globals(const struct opt *opts)
{
	size_t n = 0, g = 0, i;
	struct opt *all;
	while (opts[n].type != OPT_END)
		n++;
	while (global_options[g].type != OPT_END)
		g++;
	all = xcalloc(n + g + 1, sizeof(*all));
	memcpy(all, opts, n * sizeof(*all));
	for (i = 0; i < g; i++) {
		all[n + i] = global_options[i];
		all[n + i].flags |= OPT_HIDDEN;
	}
	return all;
}

int parse_cmd_options(int argc, char **argv, const struct opt *cmd_opts, const char *usage, int *rc)
{
	struct err e = ERR_INIT;
	struct opt *opts = with_globals(cmd_opts);
	int n = parse_cmd_options_(argc, argv, opts, usage, rc, &e);
	free(opts);
	return n;
}

static int parse_cmd_options_(int argc, char **argv, const struct opt *opts, const char *usage,
			      int *rc, struct err *ep)
{
	struct err e = *ep;
	int n;
	/* Hidden: the shell completions ask each command for its options. */
	if (argc == 2 && !strcmp(argv[1], "--list-options")) {
		struct strbuf sb = STRBUF_INIT;
		opt_list(&sb, opts);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		*rc = finish_stdout(0);
		return -1;
	}
	/* Hidden: the tests of every numeric option's limits ask for the ranges. */
	if (argc == 2 && !strcmp(argv[1], "--list-ranges")) {
		struct strbuf sb = STRBUF_INIT;
		opt_list_ranges(&sb, opts);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		*rc = finish_stdout(0);
		return -1;
	}
	n = opt_parse(argc, argv, opts, 0, &e);
	/* global options may come among a command's: --no-header takes effect once all are read,
	 * before any writer is made */
	out_default_header(!global.no_header);
	if (n == OPT_PARSE_HELP) {
		struct strbuf sb = STRBUF_INIT;
		opt_help(&sb, usage, opts);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		*rc = finish_stdout(0);
		return -1;
	}
	if (n < 0) {
		*rc = report_err(&e);
		return -1;
	}
	return n;
}

const char *store_path(void)
{
	static struct strbuf sb = STRBUF_INIT;
	const char *s;
	if (global.store && *global.store)
		return global.store;
	s = getenv("DYN_STORE");
	if (s && *s)
		return s;
	if (sb.len)
		return sb.buf;
	s = getenv("XDG_DATA_HOME");
	if (s && *s) {
		strbuf_addf(&sb, "%s/dyn", s);
	} else {
		const char *home = getenv("HOME");
		strbuf_addf(&sb, "%s/.local/share/dyn", home && *home ? home : ".");
	}
	return sb.buf;
}

int doc_format_check(const char *what)
{
	enum out_format f;
	if (global.format && out_format_parse(global.format, &f) == 0 && f == OUT_CSV)
		return usage_error("%s prints a document, not rows: --format table, json or ndjson",
				   what);
	return 0;
}

int output_format(int is_doc)
{
	enum out_format f;
	if (global.format) {
		if (out_format_parse(global.format, &f) < 0)
			return -1;
		return (int)f;
	}
	if (isatty(STDOUT_FILENO))
		return OUT_TABLE;
	return is_doc ? OUT_JSON : OUT_CSV;
}

struct progress *cmd_progress(const char *label)
{
	if (global.quiet || global.no_progress || !isatty(STDERR_FILENO))
		return NULL;
	return progress_new(stderr, label);
}

void summary(const char *fmt, ...)
{
	va_list ap;
	if (global.quiet || (!global.verbose && !isatty(STDERR_FILENO)))
		return;
	fputs("dyn: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int finish_stdout(int rc)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);
	int saved = errno;
	if (fclose(stdout) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		/* A reader that went away (dyn predict ... | head) is not an error worth a message.
		 */
		if (saved == EPIPE)
			return rc;
		fprintf(stderr, "dyn: standard output: %s\n", strerror(saved));
		return rc ? rc : DYN_EDATA;
	}
	return rc;
}
