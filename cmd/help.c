/* dyn help COMMAND (the manual) and dyn complete (candidates for the shell completions, read
 * from the same tables that parse the command line, so the two cannot disagree). */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

static const struct opt help_options[] = {
	OPT_END_(),
};

int cmd_help(int argc, char **argv)
{
	int rc = 0, n;
	char page[64];
	const struct cmd *c;
	pid_t pid;
	int status;
	char *sub[] = {NULL, (char *)"-h", NULL};

	n = parse_cmd_options(argc, argv, help_options, "dyn help [COMMAND]", &rc);
	if (n < 0)
		return rc;
	if (n == 0) {
		snprintf(page, sizeof(page), "dyn");
		c = NULL;
	} else {
		for (c = dyn_commands; c->name; c++)
			if (!strcmp(c->name, argv[0]))
				break;
		if (!c->name)
			return usage_error("'%s' is not a dyn command (see 'dyn --help')", argv[0]);
		snprintf(page, sizeof(page), "dyn-%s", c->name);
	}
	/* The manual when man can show it; the -h text otherwise (no man, page not installed). */
	if (isatty(STDOUT_FILENO)) {
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);
			if (devnull >= 0)
				dup2(devnull, STDERR_FILENO);
			execlp("man", "man", page, (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			return 0;
	}
	if (!c) {
		dyn_main_help(stdout);
		return finish_stdout(0);
	}
	sub[0] = (char *)c->name;
	return c->fn(2, sub);
}
