/* Progress on stderr for long work: a single self-overwriting line, at most ten updates a
 * second, shown only when the command asked for it (stderr a terminal, not --quiet). */
#include <stdio.h>

#include "base/clock.h"
#include "base/base.h"
#include "base/progress.h"

struct progress {
	FILE *fp;
	char *label;
	double last;
	int shown;
};

struct progress *progress_new(FILE *fp, const char *label)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	p->fp = fp;
	p->label = xstrdup(label);
	return p;
}

void progress_update(struct progress *p, double done, double total)
{
	double t;
	if (!p || !p->fp)
		return;
	t = clock_monotonic();
	if (p->shown && t - p->last < 0.1 && done < total)
		return;
	p->last = t;
	p->shown = 1;
	if (total > 0)
		fprintf(p->fp, "\r%s: %3.0f%%", p->label, 100.0 * done / total);
	else
		fprintf(p->fp, "\r%s: %.0f", p->label, done);
	fflush(p->fp);
}

void progress_free(struct progress **pp)
{
	struct progress *p = *pp;
	if (!p)
		return;
	if (p->shown && p->fp) {
		fprintf(p->fp, "\r\033[K");
		fflush(p->fp);
	}
	free(p->label);
	free(p);
	*pp = NULL;
}
