/* OpenBLAS loaded on first use: on an AMD processor with AVX-512 it runs its SkylakeX kernels
 * unless the user named a core (OPENBLAS_CORETYPE), whose choice stands. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "base/blas.h"
#include "check.h"

static int avx512_amd(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
	return 0;
#endif
}

int main(void)
{
	pid_t pid;
	int status = -1;
	/* the user's choice, in a child that loads OpenBLAS for the first time */
	pid = fork();
	if (pid == 0) {
		setenv("OPENBLAS_CORETYPE", "Haswell", 1);
		_exit(strcmp(openblas_get_corename(), "Haswell") != 0);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "OPENBLAS_CORETYPE set by the user stands");
	unsetenv("OPENBLAS_CORETYPE");
	{
		const char *core = openblas_get_corename();
		if (avx512_amd())
			check(!strcmp(core, "SkylakeX"), "AMD with AVX-512: SkylakeX kernels (%s)",
			      core);
		else
			check(core && *core, "other processors: OpenBLAS's own choice (%s)", core);
	}
	return check_done();
}
