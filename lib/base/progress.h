/* Progress reporting for long work (see progress.c). lib/ calls progress_update on a pointer
 * the command gives it, which may be NULL (no progress shown). */
#ifndef DYN_BASE_PROGRESS_H
#define DYN_BASE_PROGRESS_H

#include <stdio.h>

struct progress;

/* fp NULL makes a progress that shows nothing. Heap object: progress_free. */
struct progress *progress_new(FILE *fp, const char *label);
void progress_update(struct progress *p, double done, double total);
void progress_free(struct progress **p);

#endif
