/* Unit tests of a training's life in the store (store_begin_training, store_update_epochs,
 * store_fail_training, store_add_model replacing its own running entry, store_entry_status
 * reading a dead process's entry as failed) and of the model layer's train_log on top. */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "check.h"
#include "models/stored.h"
#include "store/store.h"

static char root[64];
static const struct iovec X1 = {"x", 1};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static cJSON *entry_of(struct store *s, const char *id, cJSON **index)
{
	struct err e = ERR_INIT;
	if (store_read_index(s, index, &e) < 0)
		return NULL;
	return store_find(*index, id, &e);
}

static const char *training_str(const cJSON *entry, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(entry, "training"), key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *new_entry(void)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "kind", "dynamogram");
	return e;
}

static void test_lifecycle(struct store *s)
{
	struct err e = ERR_INIT;
	cJSON *index = NULL, *ent, *epochs;
	char *id = NULL, *id2 = NULL;
	bool reg = false;

	check(store_begin_training(s, NULL, "dynamogram", false, new_entry(), &id, &reg, &e) == 0 &&
		  reg && id && !strncmp(id, "dynamogram-", 11),
	      "begin: a generated id, registered");
	ent = entry_of(s, id, &index);
	check(ent && !strcmp(store_entry_status(ent), "running") &&
		  !strcmp(training_str(ent, "status"), "running") &&
		  training_str(ent, "started_at") && training_str(ent, "host"),
	      "begin: the entry is running with its start and host");
	check(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(
		  cJSON_GetObjectItemCaseSensitive(ent, "training"), "epochs")),
	      "begin: an empty epochs array");
	cJSON_Delete(index);

	epochs = cJSON_CreateArray();
	cJSON_AddItemToArray(epochs, cJSON_CreateNumber(1));
	cJSON_AddItemToArray(epochs, cJSON_CreateNumber(2));
	check(store_update_epochs(s, id, epochs, &e) == 0, "update: accepted");
	ent = entry_of(s, id, &index);
	check(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		  cJSON_GetObjectItemCaseSensitive(ent, "training"), "epochs")) == 2,
	      "update: the epochs are in the catalogue");
	cJSON_Delete(index);
	cJSON_Delete(epochs);

	check(store_begin_training(s, id, "x", false, new_entry(), &id2, &reg, &e) < 0 &&
		  e.code == DYN_EUSAGE && strstr(e.msg, "already exists"),
	      "begin: an existing id is refused");
	err_clear(&e);
	free(id2);
	id2 = NULL;
	check(store_begin_training(s, id, "x", true, new_entry(), &id2, &reg, &e) == 0 && !reg &&
		  !strcmp(id2, id),
	      "begin with replace: nothing registered, the id given back");
	free(id2);

	/* The finished model replaces its own running entry without --replace. */
	check(store_add_model(s, id, "dynamogram", false, &X1, 1, new_entry(), NULL, &e) == 0,
	      "add: replaces this process's running entry");
	ent = entry_of(s, id, &index);
	check(ent && !strcmp(store_entry_status(ent), "done"), "add: the entry is done");
	cJSON_Delete(index);
	check(store_add_model(s, id, "dynamogram", false, &X1, 1, new_entry(), NULL, &e) < 0 &&
		  e.code == DYN_EUSAGE,
	      "add: a done entry is not replaced without replace");
	err_clear(&e);
	free(id);

	id = NULL;
	check(store_begin_training(s, "f1", NULL, false, new_entry(), &id, &reg, &e) == 0,
	      "begin: an explicit id");
	check(store_fail_training(s, "f1", "out of memory", &e) == 0, "fail: accepted");
	ent = entry_of(s, "f1", &index);
	check(ent && !strcmp(store_entry_status(ent), "failed") &&
		  !strcmp(training_str(ent, "error"), "out of memory") &&
		  training_str(ent, "finished_at"),
	      "fail: status failed, the error and the finish time");
	cJSON_Delete(index);
	free(id);
}

/* A training registered by a child process that then dies reads as failed. */
static void test_dead_process(struct store *s)
{
	struct err e = ERR_INIT;
	cJSON *index = NULL, *ent;
	int status = 0;
	pid_t pid = fork();
	if (pid == 0) {
		char *id = NULL;
		bool reg;
		struct store *cs = NULL;
		struct err ce = ERR_INIT;
		if (store_open(&cs, root, &ce) < 0 ||
		    store_begin_training(cs, "dead", NULL, false, new_entry(), &id, &reg, &ce) < 0)
			_exit(1);
		_exit(0); /* gone without finishing */
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child registered a training");
	ent = entry_of(s, "dead", &index);
	check(ent && !strcmp(training_str(ent, "status"), "running") &&
		  !strcmp(store_entry_status(ent), "failed"),
	      "a running entry whose process is gone reads as failed");
	check(store_update_epochs(s, "dead", NULL, &e) == 0, "not ours: left alone");
	cJSON_Delete(index);
	ent = entry_of(s, "dead", &index);
	check(!strcmp(training_str(ent, "status"), "running"),
	      "another process's entry is not rewritten");
	cJSON_Delete(index);
	{
		const char *ids[] = {"dead"};
		check(store_remove(s, ids, 1, false, &e) == 0, "a failed training can be removed");
	}
}

static void test_status_values(void)
{
	cJSON *ent = cJSON_Parse("{\"id\": \"a\"}");
	check(!strcmp(store_entry_status(ent), "done"), "no training object: done");
	cJSON_Delete(ent);
	ent = cJSON_Parse("{\"training\": {\"status\": \"finished\"}}");
	check(!strcmp(store_entry_status(ent), "done"), "an older store's finished: done");
	cJSON_Delete(ent);
	ent = cJSON_Parse("{\"training\": {\"status\": \"weird\"}}");
	check(!strcmp(store_entry_status(ent), "unknown"), "anything else: unknown");
	cJSON_Delete(ent);
	ent = cJSON_Parse("{\"training\": {\"status\": \"running\", \"pid\": 1, \"host\": "
			  "\"another-host-that-is-not-this-one\"}}");
	check(!strcmp(store_entry_status(ent), "running"),
	      "a training on another host is taken at its word");
	cJSON_Delete(ent);
}

static void test_train_log(struct store *s)
{
	struct err e = ERR_INIT;
	struct train_log *log = NULL;
	struct epoch_stats st;
	cJSON *index = NULL, *ent, *eps;
	check(train_log_begin(&log, s, NULL, "dynamogram", false, new_entry(), &e) == 0,
	      "train_log: begins");
	memset(&st, 0, sizeof(st));
	st.epoch = 1;
	st.loss = 0.5;
	st.val_loss = NAN;
	st.lr = 0.01;
	st.metric = "accuracy";
	st.train_metric = 0.75;
	st.val_metric = NAN;
	check(train_log_epoch(log, &st, &e) == 0, "train_log: an epoch");
	ent = entry_of(s, train_log_id(log), &index);
	eps = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ent, "training"),
					       "epochs");
	check(
	    cJSON_GetArraySize(eps) == 1 &&
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(eps, 0), "loss")->valuedouble ==
		    0.5 &&
		cJSON_IsNull(
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(eps, 0), "val_loss")) &&
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(eps, 0), "accuracy") &&
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(eps, 0), "val_accuracy"),
	    "train_log: the epoch's loss, a null val_loss, the metric and its val_ twin");
	cJSON_Delete(index);
	train_log_fail(log, "stopped");
	ent = entry_of(s, train_log_id(log), &index);
	check(!strcmp(store_entry_status(ent), "failed"), "train_log: failed");
	cJSON_Delete(index);
	train_log_free(&log);
	check(!log, "train_log_free clears the pointer");
}

int main(void)
{
	struct store *s = NULL;
	struct err e = ERR_INIT;
	snprintf(root, sizeof(root), "/tmp/dyn-t-training.%d", (int)getpid());
	check(store_open(&s, root, &e) == 0, "store opens");
	test_lifecycle(s);
	test_dead_process(s);
	test_status_values();
	test_train_log(s);
	store_free(&s);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return check_done();
}
