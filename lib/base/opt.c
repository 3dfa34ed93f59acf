/* The one option parser of dyn (see opt.h). */
#include <string.h>

#include "base/base.h"
#include "base/opt.h"

static int opt_takes_arg(const struct opt *o)
{
	switch (o->type) {
	case OPT_STRING:
	case OPT_LONG:
	case OPT_DOUBLE:
		return 1;
	case OPT_CALLBACK:
		return !(o->flags & OPT_NOARG);
	default:
		return 0;
	}
}

static int has_range(const struct opt *o)
{
	return o->min != 0 || o->max != 0;
}

static void opt_name(const struct opt *o, char *buf, size_t n)
{
	if (o->long_name)
		snprintf(buf, n, "--%s", o->long_name);
	else
		snprintf(buf, n, "-%c", o->short_name);
}

static int opt_apply(const struct opt *o, const char *arg, struct err *e)
{
	char name[80];
	opt_name(o, name, sizeof(name));
	switch (o->type) {
	case OPT_BOOL:
		*(int *)o->value = (o->flags & OPT_NEG) ? 0 : 1;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_LONG: {
		long v;
		if (parse_long(arg, &v) < 0)
			return err_set(e, DYN_EUSAGE, "option %s: expected an integer, got \"%s\"",
				       name, arg);
		if (has_range(o) && ((double)v < o->min || (double)v > o->max))
			return err_set(
			    e, DYN_EUSAGE,
			    "option %s: expected an integer from %.15g to %.15g, got %ld", name,
			    o->min, o->max, v);
		*(long *)o->value = v;
		return 0;
	}
	case OPT_DOUBLE: {
		double v;
		if (parse_double(arg, (size_t)-1, &v, false) < 0)
			return err_set(e, DYN_EUSAGE, "option %s: expected a number, got \"%s\"",
				       name, arg);
		if (has_range(o) && !(v >= o->min && v <= o->max))
			return err_set(
			    e, DYN_EUSAGE,
			    "option %s: expected a number from %.15g to %.15g, got \"%s\"", name,
			    o->min, o->max, arg);
		*(double *)o->value = v;
		return 0;
	}
	case OPT_CALLBACK:
		if (o->cb(o, arg, e) < 0) {
			if (!e->code)
				e->code = DYN_EUSAGE;
			return -1;
		}
		return 0;
	default:
		return err_set(e, DYN_EUSAGE, "option %s: internal error", name);
	}
}

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    !memcmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, int c)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

int opt_parse(int argc, char **argv, const struct opt *opts, unsigned flags, struct err *e)
{
	int i, npos = 0, only_pos = 0;
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	int ret = -1;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct opt *o;
		const char *arg = NULL;
		if (only_pos || a[0] != '-' || !a[1]) {
			if (flags & OPT_STOP_AT_NON_OPTION) {
				while (i < argc)
					pos[npos++] = argv[i++];
				break;
			}
			pos[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			if (flags & OPT_STOP_AT_NON_OPTION) {
				i++;
				while (i < argc)
					pos[npos++] = argv[i++];
				break;
			}
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			if (len == 4 && !memcmp(name, "help", 4)) {
				ret = OPT_PARSE_HELP;
				goto out;
			}
			o = find_long(opts, name, len);
			if (!o) {
				err_set(e, DYN_EUSAGE, "unknown option \"--%.*s\"", (int)len, name);
				goto out;
			}
			if (eq) {
				if (!opt_takes_arg(o)) {
					err_set(e, DYN_EUSAGE, "option --%s takes no value",
						o->long_name);
					goto out;
				}
				arg = eq + 1;
			}
		} else {
			if (a[1] == 'h' && !a[2]) {
				ret = OPT_PARSE_HELP;
				goto out;
			}
			o = find_short(opts, a[1]);
			if (!o) {
				err_set(e, DYN_EUSAGE, "unknown option \"%s\"", a);
				goto out;
			}
			if (a[2]) {
				if (!opt_takes_arg(o)) {
					err_set(e, DYN_EUSAGE, "unknown option \"%s\"", a);
					goto out;
				}
				arg = a + 2;
			}
		}
		if (opt_takes_arg(o) && !arg) {
			if (i + 1 >= argc) {
				char name[80];
				opt_name(o, name, sizeof(name));
				err_set(e, DYN_EUSAGE, "option %s needs a value", name);
				goto out;
			}
			arg = argv[++i];
		}
		if (opt_apply(o, arg, e) < 0)
			goto out;
	}
	memcpy(argv, pos, (size_t)npos * sizeof(*argv));
	argv[npos] = NULL;
	ret = npos;
out:
	free(pos);
	return ret;
}

void opt_help(struct strbuf *out, const char *usage, const struct opt *opts)
{
	strbuf_addf(out, "usage: %s\n", usage);
	for (; opts->type != OPT_END; opts++) {
		struct strbuf left = STRBUF_INIT;
		if (opts->flags & OPT_HIDDEN)
			continue;
		if (opts->type == OPT_GROUP) {
			strbuf_addf(out, "\n%s\n", opts->help);
			continue;
		}
		strbuf_adds(&left, "    ");
		if (opts->short_name)
			strbuf_addf(&left, "-%c%s", opts->short_name, opts->long_name ? ", " : "");
		else
			strbuf_adds(&left, "    ");
		if (opts->long_name)
			strbuf_addf(&left, "--%s", opts->long_name);
		if (opt_takes_arg(opts))
			strbuf_addf(&left, " %s", opts->argh ? opts->argh : "VALUE");
		if (left.len < 30)
			strbuf_addf(out, "%-30s%s\n", left.buf, opts->help);
		else
			strbuf_addf(out, "%s\n%30s%s\n", left.buf, "", opts->help);
		strbuf_release(&left);
	}
}

void opt_list(struct strbuf *out, const struct opt *opts)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->long_name && !(opts->flags & OPT_HIDDEN))
			strbuf_addf(out, "--%s\n", opts->long_name);
}

void opt_list_ranges(struct strbuf *out, const struct opt *opts)
{
	for (const struct opt *o = opts; o->type != OPT_END; o++)
		if (o->long_name && has_range(o) &&
		    (o->type == OPT_LONG || o->type == OPT_DOUBLE || o->type == OPT_CALLBACK))
			strbuf_addf(out, "--%s %s %.17g %.17g\n", o->long_name,
				    o->type == OPT_DOUBLE || (o->type == OPT_CALLBACK && o->argh &&
							      strcmp(o->argh, "N") != 0)
					? "number"
					: "integer",
				    o->min, o->max);
}
