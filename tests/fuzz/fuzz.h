/* What the fuzz targets share: each target file defines LLVMFuzzerTestOneInput for one parser
 * of dyn's; `make fuzz` links it with libFuzzer (clang), the test suite with driver.c to replay
 * its corpus (tests/fuzz/corpus/NAME/ and the seeds t9000-fuzz.sh names). */
#ifndef DYN_TESTS_FUZZ_H
#define DYN_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes the input to a file named NAME in a directory of this process's (made once, removed at
 * exit) and returns its path, for parsers that read files; NULL when it cannot. */
const char *fuzz_file(const uint8_t *data, size_t size, const char *name);
/* That directory (made on the first call). */
const char *fuzz_dir(void);

#endif
