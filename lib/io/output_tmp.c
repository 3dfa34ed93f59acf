/* Temporary until lib/io/output.c lands. */
#include <string.h>
#include "io/output.h"
int out_format_parse(const char *s, enum out_format *f)
{
	static const char *const names[] = {"table", "csv", "json", "ndjson"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*f = (enum out_format)i;
			return 0;
		}
	return -1;
}
