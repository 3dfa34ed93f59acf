/* The model store: $DYN_STORE/index.json (the catalogue) and models/ID.safetensors, written
 * atomically (temporary file, fsync, rename) under an flock(2) lock on $DYN_STORE/.lock.
 * Readers never take the lock: they only ever see whole files. */
#ifndef DYN_STORE_STORE_H
#define DYN_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "base/err.h"
#include "base/sha256.h"

/* cJSON documents travel through cmd/ as opaque pointers; only lib/ includes cJSON.h. */
struct cJSON;
struct st_file;

struct store;

/* Opens (creating if missing, with parents) the store at dir. *out is owned by the caller:
 * store_free. Errors name the directory. */
int store_open(struct store **out, const char *dir, struct err *e);
/* The same for commands that only read (or remove): a store that does not exist is a
 * DYN_ENOTFOUND error naming it, and nothing is created. */
int store_open_existing(struct store **out, const char *dir, struct err *e);
void store_free(struct store **s);
const char *store_dir(const struct store *s);

/* Model ids match [A-Za-z0-9][A-Za-z0-9._-]{0,63}; nothing else becomes a path. */
bool store_valid_id(const char *id);

/* Reads and validates index.json (a missing file is an empty catalogue). *index is owned by
 * the caller (cJSON_Delete). A corrupt index is a DYN_EDATA error naming the file. */
int store_read_index(struct store *s, struct cJSON **index, struct err *e);

/* Finds the entry of model id in index (borrowed pointer into index), or sets a DYN_ENOTFOUND
 * error "model \"ID\" not found" and returns NULL. */
struct cJSON *store_find(struct cJSON *index, const char *id, struct err *e);

/* Adds a model: under the lock, writes the model file's bytes (the nfile pieces of file, in
 * order: an st_image's, say), hashing them in the same pass, completes entry and appends it to
 * index.json. entry is consumed. The store sets "id", "file" (models/NAME), "sha256" and "size"
 * (it is their authority: values the caller left there are replaced) and "created_at" when
 * absent; entry's other fields follow in their order.
 * If id is NULL, a fresh id "<prefix>-xxxxxx" is generated under the lock and returned in
 * *id_out (owned by caller; also set for an explicit id). An existing id is a DYN_EUSAGE error
 * unless replace is set; a replacement never overwrites the file the index names (it goes to
 * models/ID.<sha256 prefix>.safetensors instead) and the old file is removed only after the
 * new index is in place. A corrupt index is never rewritten: the add fails with its error. */
int store_add_model(struct store *s, const char *id, const char *prefix, bool replace,
		    const struct iovec *file, size_t nfile, struct cJSON *entry, char **id_out,
		    struct err *e);

/* Training in the store (kinds that train in epochs). store_begin_training registers model
 * id (NULL: a fresh "<prefix>-xxxxxx", returned in *id_out like every id; caller frees) with
 * entry (consumed; "id" and "created_at" set by the store) and a "training" object of status
 * "running", started_at, this process's pid and host and an empty "epochs" array, under the
 * lock, so that readers see it from the first epoch. An existing id is a DYN_EUSAGE error
 * unless replace or its training failed (a failed entry without a model file is replaced: the
 * same command again, once fixed, goes ahead); then nothing is registered (*registered false: the
 * old model stays as it is until store_add_model replaces it). store_update_epochs replaces the
 * entry's training.epochs (copied) and store_fail_training marks it "failed" with finished_at and
 * "error": msg; both only touch this process's own running entry (a removed entry is left alone).
 * store_add_model replaces this process's running entry without needing replace. */
int store_begin_training(struct store *s, const char *id, const char *prefix, bool replace,
			 struct cJSON *entry, char **id_out, bool *registered, struct err *e);
int store_update_epochs(struct store *s, const char *id, const struct cJSON *epochs, struct err *e);
int store_fail_training(struct store *s, const char *id, const char *msg, struct err *e);

/* The status of an entry's training as readers should see it: "done" (also for entries without
 * one, and the "finished" of older stores), "running", "failed" (also a running entry of a
 * process on this host that is gone) or "unknown". A static string. */
const char *store_entry_status(const struct cJSON *entry);

/* Checks the store under the lock, calling fn for each problem: a temporary file left by a
 * killed writer, a model file no entry names (both removed when repair; writers also remove
 * the temporaries whenever they take the lock), an entry whose file is missing or does not
 * match it (reported only). removed says whether the file was removed; fn's non-zero return
 * stops the check. Returns 1 when problems remain, 0 when none (or all were removed), -1 on
 * error. */
int store_check(struct store *s, bool repair,
		int (*fn)(void *arg, const char *path, const char *problem, bool removed),
		void *arg, struct err *e);

/* Removes models by id under the lock (one index rewrite for all). A missing id is a
 * DYN_ENOTFOUND error and nothing is removed, unless force. */
int store_remove(struct store *s, const char *const *ids, size_t n, bool force, struct err *e);

/* Reads the model file of an entry ("file" must be models/NAME) and checks its size (when the
 * entry has one) and sha256 against the entry; a mismatch is a DYN_EDATA error ("model \"ID\":
 * \"models/ID.safetensors\" does not match its index entry (sha256 differs)"), and so is a
 * missing file. Readers take no lock: if the model was replaced or removed since the caller
 * read the index, the error says so ("model \"ID\" was replaced or removed while it was being
 * read") instead. *buf is owned by the caller (free). */
int store_read_model(struct store *s, const struct cJSON *entry, void **buf, size_t *len,
		     struct err *e);

/* The same for a safetensors model file, parsed into f (st_read: each tensor read straight into
 * its own allocation, the hash computed in the same pass). On error f is left empty. */
int store_load_model(struct store *s, const struct cJSON *entry, struct st_file *f, struct err *e);

/* A training's checkpoint, kept while it runs so that a training killed midway can resume
 * (dyn fit --resume): STORE/checkpoints/ID.safetensors, written atomically (a killed writer
 * leaves the previous one), read back whole (DYN_ENOTFOUND when there is none), dropped when
 * the training ends or the model is removed. */
int store_write_checkpoint(struct store *s, const char *id, const struct iovec *iov, size_t niov,
			   struct err *e);
int store_read_checkpoint(struct store *s, const char *id, struct st_file *f, struct err *e);
void store_drop_checkpoint(struct store *s, const char *id);

/* Writes len bytes to path atomically: temporary file in the same directory, fsync, rename,
 * fsync of the directory. Used by the store and by any command that writes result files. */
int atomic_write(const char *path, const void *data, size_t len, struct err *e);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void utc_now(char out[21]);

#endif
