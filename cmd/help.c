/* dyn help COMMAND (the manual) and dyn complete (candidates for the shell completions, read
 * from the same tables that parse the command line, so the two cannot disagree). */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cards/markers.h"
#include "cmd.h"
#include "mark/markdb.h"
#include "io/doc.h"
#include "store/store.h"

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

/* Prints the model ids of the store, one per line (errors are silent: this serves completion). */
static int list_model_ids(void)
{
	struct store *s = NULL;
	struct cJSON *index = NULL;
	struct err e = ERR_INIT;
	size_t i;
	if (store_open_existing(&s, store_path(), &e) == 0 && store_read_index(s, &index, &e) == 0)
		for (i = 0; i < doc_len(index, "models"); i++)
			printf("%s\n", doc_str(doc_at(index, "models", i), "id"));
	doc_free(index);
	store_free(&s);
	return finish_stdout(0);
}

static int print_marker(void *arg, const struct markdb_marker *m)
{
	(void)arg;
	printf("%s\n", m->name);
	return 0;
}

static int print_card(void *arg, const struct markdb_card *c)
{
	(void)arg;
	printf("%lld\n", c->id);
	return 0;
}

/* The marker names, or the card ids, of the marking dataset (errors silent, as above). */
static int list_marking(bool cards)
{
	struct markdb *db = NULL;
	struct err e = ERR_INIT;
	if (markdb_open(&db, store_path(), MARKDB_READ, &e) == 0) {
		if (cards)
			markdb_cards(db, MARKDB_ALL, NULL, false, print_card, NULL, &e);
		else
			markdb_markers(db, print_marker, NULL, &e);
	}
	markdb_close(&db);
	return finish_stdout(0);
}

static int takes_value(const char *w)
{
	static const char *const with_value[] = {"--store", "--format", "--threads", "--seed"};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(with_value); i++)
		if (!strcmp(w, with_value[i]))
			return 1;
	return 0;
}

/* dyn complete WORD... : the candidates for the last WORD (the one being typed) of
 * "dyn WORD...". Shells filter by prefix; no output means "complete file names". */
int cmd_complete(int argc, char **argv)
{
	const char *cur, *prev, *cmd = NULL, *sub = NULL;
	const struct cmd *c;
	int i, npos = 0;
	char *list[] = {NULL, NULL, (char *)"--list-options", NULL};

	if (argc < 2)
		return finish_stdout(0);
	cur = argv[argc - 1];
	prev = argc >= 3 ? argv[argc - 2] : "";
	if (!strcmp(prev, "--format")) {
		printf("table\ncsv\njson\nndjson\n");
		return finish_stdout(0);
	}
	if (!strcmp(prev, "--markers")) {
		for (i = 0; i < CARD_MARKERS_N; i++)
			printf("%s\n", card_markers[i].name);
		return finish_stdout(0);
	}
	if (!strcmp(prev, "--marker") || !strcmp(prev, "--rm") || !strcmp(prev, "--rename"))
		return list_marking(false);
	if (!strcmp(prev, "--suggest") || !strcmp(prev, "--warm-start") ||
	    !strcmp(prev, "--pretrained"))
		return list_model_ids();
	/* a file to write: the shell's file names, not the model ids "models show" offers */
	if (!strcmp(prev, "--plot"))
		return finish_stdout(0);
	if (!strcmp(prev, "--image-format")) {
		printf("png\njpeg\nany\n");
		return finish_stdout(0);
	}
	for (i = 1; i < argc - 1; i++) {
		if (argv[i][0] == '-') {
			if (!cmd && takes_value(argv[i]))
				i++;
			continue;
		}
		if (!cmd)
			cmd = argv[i];
		else if (!sub)
			sub = argv[i];
		npos++;
	}
	if (!cmd) {
		if (cur[0] == '-')
			printf("--store\n--format\n--threads\n--seed\n--quiet\n--verbose\n"
			       "--no-progress\n--version\n--help\n");
		else
			for (c = dyn_commands; c->name; c++)
				if (!(c->flags & CMD_HIDDEN))
					printf("%s\n", c->name);
		return finish_stdout(0);
	}
	for (c = dyn_commands; c->name; c++)
		if (!strcmp(c->name, cmd))
			break;
	if (!c->name)
		return finish_stdout(0);
	if (!strcmp(cmd, "help")) {
		for (c = dyn_commands; c->name; c++)
			if (!(c->flags & CMD_HIDDEN))
				printf("%s\n", c->name);
		return finish_stdout(0);
	}
	if (!strcmp(cmd, "fit") || !strcmp(cmd, "models") || !strcmp(cmd, "mark")) {
		/* Nested verbs: "fit KIND", "models ls", "mark generate". */
		if (!sub) {
			list[0] = (char *)cmd;
			list[1] = (char *)"--list-options";
			return c->fn(2, list);
		}
		if (!strcmp(cmd, "models") && (!strcmp(sub, "show") || !strcmp(sub, "rm")) &&
		    cur[0] != '-')
			return list_model_ids();
		/* "mark CARD MARKER", "mark show CARD", "mark skip CARD" */
		if (!strcmp(cmd, "mark") && cur[0] != '-' && npos == 2) {
			if (sub[0] >= '0' && sub[0] <= '9')
				return list_marking(false);
			if (!strcmp(sub, "show") || !strcmp(sub, "skip"))
				return list_marking(true);
		}
		if (cur[0] != '-')
			return finish_stdout(0);
		list[0] = (char *)cmd;
		list[1] = (char *)sub;
		return c->fn(3, list);
	}
	if (cur[0] == '-') {
		list[0] = (char *)cmd;
		list[1] = (char *)"--list-options";
		return c->fn(2, list);
	}
	if (!strcmp(cmd, "predict") && npos == 1)
		return list_model_ids();
	return finish_stdout(0);
}
