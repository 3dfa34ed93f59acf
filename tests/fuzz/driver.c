/* Replays inputs through a fuzz target without libFuzzer: each argument is a file, or a
 * directory whose files are all replayed. Built into every target for the test suite (under
 * the sanitizers), so that stored crashers and seeds keep passing. Prints one "ok" line per
 * argument. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	long n;
	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, fp) != (size_t)n)) {
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		size_t count = 0;
		if (stat(argv[i], &st) < 0) {
			printf("not ok - %s: cannot read\n", argv[i]);
			bad = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				char p[4096];
				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
				if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
					if (run_file(p) < 0) {
						printf("not ok - %s: cannot read\n", p);
						bad = 1;
					}
					count++;
				}
			}
			if (d)
				closedir(d);
		} else {
			if (run_file(argv[i]) < 0) {
				printf("not ok - %s: cannot read\n", argv[i]);
				bad = 1;
			}
			count++;
		}
		printf("ok - %s: %zu inputs replayed\n", argv[i], count);
	}
	return bad;
}
