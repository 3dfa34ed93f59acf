/* The model store: opening (mkdir -p), the writers' flock, atomic writes, index.json (read,
 * validate, rewrite), adding, removing and reading models. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "base/sha256.h"
#include "store/json_strict.h"
#include "store/safetensors.h"
#include "store/store.h"

#define ID_MAX 64
/* "-" plus the six hex digits of a generated id. */
#define ID_SUFFIX 7

static bool isalnum_c(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

struct store {
	char *dir;
	char *index_path;
	char *lock_path;
};

static char *path_join(const char *a, const char *b)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", a, b);
	return strbuf_detach(&sb, NULL);
}

/* Makes a new directory entry durable: files later renamed into a directory whose own entry
 * was lost in a power failure would be lost with it. Best effort: failure changes nothing now. */
static void fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir =
	    slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* mkdir -p: each missing component is created with mode 0777 (minus the umask), the last one
 * with mode (minus the umask). */
static int mkdir_p(const char *dir, mode_t mode, struct err *e)
{
	char *p = xstrdup(dir);
	size_t i, n = strlen(p);
	struct stat st;
	int ret = -1;

	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		if (p[i - 1] == '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, i == n ? mode : 0777) == 0) {
			fsync_parent(p);
		} else if (errno != EEXIST) {
			err_sys(e, "\"%s\": cannot create directory", p);
			goto out;
		}
		/* EEXIST says nothing about what exists: a file where a directory should be is an
		 * error here rather than a puzzling one later. */
		if (stat(p, &st) < 0) {
			err_sys(e, "\"%s\"", p);
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			err_set(e, DYN_EDATA, "\"%s\": not a directory", p);
			goto out;
		}
		if (i < n)
			p[i] = '/';
	}
	ret = 0;
out:
	free(p);
	return ret;
}

/* The store's parts are its own: a symbolic link planted for models/, index.json, .lock or a
 * model file would have dyn write or read elsewhere (the store directory itself may be one). */
static int link_error(const char *path, struct err *e)
{
	return err_set(e, DYN_EDATA,
		       "\"%s\": a symbolic link (refused: the store's parts must be its own)",
		       path);
}

static int refuse_link(const char *path, struct err *e)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return link_error(path, e);
	return 0;
}

static int store_open_impl(struct store **out, const char *dir, bool create, struct err *e)
{
	struct store *s;
	size_t n = strlen(dir);
	char *models;

	*out = NULL;
	if (!n)
		return err_set(e, DYN_EUSAGE, "the store directory is an empty string");
	while (n > 1 && dir[n - 1] == '/')
		n--;
	s = xcalloc(1, sizeof(*s));
	s->dir = xstrndup(dir, n);
	s->index_path = path_join(s->dir, "index.json");
	s->lock_path = path_join(s->dir, ".lock");
	models = path_join(s->dir, "models");
	if (!create) {
		struct stat st;
		int r = stat(s->dir, &st);
		if (r < 0 || !S_ISDIR(st.st_mode)) {
			if (r == 0)
				err_set(e, DYN_EDATA, "\"%s\": not a directory", s->dir);
			else if (errno == ENOENT)
				err_set(e, DYN_ENOTFOUND,
					"no store at \"%s\" (set by --store, DYN_STORE or "
					"XDG_DATA_HOME; a command that adds a model creates it)",
					s->dir);
			else
				err_sys(e, "\"%s\"", s->dir);
			free(models);
			store_free(&s);
			return -1;
		}
	}
	/* a new store is private: it holds data paths, notes and labelled data (dyn(1), FILES) */
	if ((create && (mkdir_p(s->dir, 0700, e) < 0 || mkdir_p(models, 0777, e) < 0)) ||
	    refuse_link(models, e) < 0) {
		free(models);
		store_free(&s);
		return -1;
	}
	free(models);
	*out = s;
	return 0;
}

int store_open(struct store **out, const char *dir, struct err *e)
{
	return store_open_impl(out, dir, true, e);
}

int store_open_existing(struct store **out, const char *dir, struct err *e)
{
	return store_open_impl(out, dir, false, e);
}

void store_free(struct store **sp)
{
	struct store *s = *sp;
	if (!s)
		return;
	free(s->dir);
	free(s->index_path);
	free(s->lock_path);
	free(s);
	*sp = NULL;
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

bool store_valid_id(const char *id)
{
	size_t i;
	if (!id || !isalnum_c(id[0]))
		return false;
	for (i = 1; id[i]; i++) {
		if (i >= ID_MAX)
			return false;
		if (!isalnum_c(id[i]) && id[i] != '.' && id[i] != '_' && id[i] != '-')
			return false;
	}
	return true;
}

/* Random bytes from the kernel; ids must not repeat across processes started in the same
 * second, which rules out time- or pid-seeded generators. */
static int random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void hex_lower(char *out, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Asks the kernel to start writing [off, off + len) of fd to the disk now, without waiting: the
 * disk then works while the rest is written and hashed, and the final fsync has less to do. A
 * hint; fsync reports any error. */
static void start_writeback(int fd, uint64_t off, uint64_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
	(void)fd;
	(void)off;
	(void)len;
#endif
}

/* Writes the pieces to a new temporary file in path's directory, named after path, feeding them
 * to h (when not NULL) a chunk at a time as they are written, and syncs it. *tmp (owned by the
 * caller) names the file; on failure nothing is left behind. */
static int tmp_write(const char *path, const struct iovec *iov, size_t niov, struct sha256 *h,
		     char **tmp, struct err *e)
{
	/* Hashing a chunk just before writing it reads the bytes from the cache the second time. */
	enum { CHUNK = 1 << 20, WRITEBACK = 8 << 20 };
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir =
	    slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	struct strbuf name = STRBUF_INIT;
	uint64_t written = 0, queued = 0;
	int fd = -1, tries, ret = -1;
	bool created = false;
	size_t i;

	*tmp = NULL;
	/* mkstemp would create the file 0600; open(O_EXCL) with 0666 gives the usual umask-derived
	 * mode with the same guarantee of a fresh file. */
	for (tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		char hex[13];
		if (random_bytes(rnd, sizeof(rnd)) < 0) {
			err_sys(e, "\"%s\": cannot get random bytes", path);
			goto out;
		}
		hex_lower(hex, rnd, sizeof(rnd));
		strbuf_reset(&name);
		strbuf_addf(&name, "%s/.tmp-%.100s-%s", dir, base, hex);
		fd = open(name.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err_sys(e, "\"%s\": cannot create a temporary file", path);
		goto out;
	}
	created = true;
	for (i = 0; i < niov; i++) {
		const unsigned char *p = iov[i].iov_base;
		size_t left = iov[i].iov_len, chunk = 0;
		while (left) {
			ssize_t n;
			if (!chunk) {
				chunk = left < CHUNK ? left : CHUNK;
				if (h)
					sha256_update(h, p, chunk);
			}
			n = write(fd, p, chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				err_sys(e, "\"%s\": cannot write", path);
				goto out;
			}
			p += n;
			left -= (size_t)n;
			chunk -= (size_t)n;
			written += (uint64_t)n;
			if (written - queued >= WRITEBACK) {
				start_writeback(fd, queued, written - queued);
				queued = written;
			}
		}
	}
	if (fsync(fd) < 0) {
		err_sys(e, "\"%s\": cannot sync", path);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_sys(e, "\"%s\": cannot write", path);
		goto out;
	}
	fd = -1;
	*tmp = strbuf_detach(&name, NULL);
	created = false;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(name.buf);
	strbuf_release(&name);
	free(dir);
	return ret;
}

/* Renames the synced temporary file tmp (consumed: freed, and removed on failure) to path, and
 * makes that durable. *renamed tells a caller whose later step fails whether path was already
 * replaced (only the directory's fsync can fail after that). */
static int tmp_commit(char *tmp, const char *path, bool *renamed, struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir =
	    slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int dfd = -1, ret = -1;

	*renamed = false;
	if (rename(tmp, path) < 0) {
		err_sys(e, "\"%s\": cannot replace", path);
		unlink(tmp);
		goto out;
	}
	*renamed = true;
	/* The rename is durable only once the directory entry is. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (fsync(dfd) < 0 && errno != EINVAL)) {
		err_sys(e, "\"%s\": cannot sync directory", dir);
		goto out;
	}
	ret = 0;
out:
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dir);
	return ret;
}

/* Writes path atomically from its pieces (see tmp_write and tmp_commit). */
static int atomic_write_impl(const char *path, const struct iovec *iov, size_t niov, bool *renamed,
			     struct err *e)
{
	char *tmp;
	*renamed = false;
	if (tmp_write(path, iov, niov, NULL, &tmp, e) < 0)
		return -1;
	return tmp_commit(tmp, path, renamed, e);
}

int atomic_write(const char *path, const void *data, size_t len, struct err *e)
{
	struct iovec one = {(void *)(uintptr_t)data, len};
	bool renamed;
	return atomic_write_impl(path, &one, 1, &renamed, e);
}

static int open_regular(const char *path, int *fd, uint64_t *size, bool *missing, struct err *e);

/* STORE/checkpoints/ID.safetensors */
static char *checkpoint_path(const struct store *s, const char *id)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/checkpoints/%s.safetensors", s->dir, id);
	return strbuf_detach(&sb, NULL);
}

int store_write_checkpoint(struct store *s, const char *id, const struct iovec *iov, size_t niov,
			   struct err *e)
{
	char *dir = path_join(s->dir, "checkpoints"), *path = checkpoint_path(s, id);
	bool renamed;
	int ret = -1;
	if (!store_valid_id(id)) {
		err_set(e, DYN_EUSAGE, "invalid model id \"%s\"", id);
		goto out;
	}
	if (mkdir_p(dir, 0777, e) < 0)
		goto out;
	ret = atomic_write_impl(path, iov, niov, &renamed, e);
out:
	free(dir);
	free(path);
	return ret;
}

int store_read_checkpoint(struct store *s, const char *id, struct st_file *f, struct err *e)
{
	char *path;
	int fd, ret = -1;
	uint64_t size;
	bool missing = false;
	if (!store_valid_id(id))
		return err_set(e, DYN_EUSAGE, "invalid model id \"%s\"", id);
	path = checkpoint_path(s, id);
	if (open_regular(path, &fd, &size, &missing, e) < 0) {
		if (missing)
			err_set(e, DYN_ENOTFOUND,
				"model \"%s\" has no checkpoint to resume from (a training that "
				"ended, or none of its epochs ended)",
				id);
		free(path);
		return -1;
	}
	ret = st_read(f, fd, size, NULL, e);
	if (ret < 0)
		err_prefix(e, "checkpoint of \"%s\"", id);
	close(fd);
	free(path);
	return ret;
}

void store_drop_checkpoint(struct store *s, const char *id)
{
	char *path;
	if (!store_valid_id(id))
		return;
	path = checkpoint_path(s, id);
	unlink(path);
	free(path);
}

void utc_now(char out[21])
{
	time_t t = time(NULL);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
		memcpy(out, "1970-01-01T00:00:00Z", 21);
}

/* Opens a regular file for reading: *fd and its *size. *missing tells ENOENT apart for callers
 * that accept it. */
static int open_regular(const char *path, int *fd, uint64_t *size, bool *missing, struct err *e)
{
	struct stat st;
	int f;

	*missing = false;
	*fd = -1;
	/* O_NONBLOCK: a FIFO planted where a file should be must not hang the command. */
	f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (f < 0) {
		*missing = errno == ENOENT;
		if (errno == ELOOP)
			return link_error(path, e);
		return err_sys(e, "\"%s\"", path);
	}
	if (fstat(f, &st) < 0) {
		err_sys(e, "\"%s\"", path);
		close(f);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, DYN_EDATA, "\"%s\": not a regular file", path);
		close(f);
		return -1;
	}
	*fd = f;
	*size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* Reads a whole regular file. *missing tells ENOENT apart for callers that accept it. */
static int read_whole(const char *path, struct strbuf *sb, bool *missing, struct err *e)
{
	uint64_t size;
	int fd, ret = -1;

	if (open_regular(path, &fd, &size, missing, e) < 0)
		return -1;
	/* One allocation for the usual case; strbuf_read_fd still copes if the file grew. */
	if (size > 0 && size < SIZE_MAX / 2)
		strbuf_grow(sb, (size_t)size);
	if (strbuf_read_fd(sb, fd) < 0) {
		err_sys(e, "\"%s\": cannot read", path);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Calls fn for each "dir/.tmp-*" regular file (dyn's temporaries: tmp_write names them so). */
static void each_temporary(const char *dir, void (*fn)(void *arg, const char *path), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct strbuf p = STRBUF_INIT;
		struct stat st;
		if (strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		strbuf_addf(&p, "%s/%s", dir, de->d_name);
		if (lstat(p.buf, &st) == 0 && S_ISREG(st.st_mode))
			fn(arg, p.buf);
		strbuf_release(&p);
	}
	closedir(d);
}

static void unlink_one(void *arg, const char *path)
{
	(void)arg;
	unlink(path);
}

/* The store's temporaries are written only under the lock (the index's, the models'), so with
 * the lock held any that exists was left by a writer that was killed: removed. */
static void clean_temporaries(struct store *s)
{
	char *models = path_join(s->dir, "models");
	each_temporary(s->dir, unlink_one, NULL);
	each_temporary(models, unlink_one, NULL);
	free(models);
}

static int store_lock_only(struct store *s, int *fd, struct err *e)
{
	int f = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (f < 0 && errno == ELOOP)
		return link_error(s->lock_path, e);
	if (f < 0)
		return err_sys(e, "\"%s\": cannot open the store's lock", s->lock_path);
	while (flock(f, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_sys(e, "\"%s\": cannot lock", s->lock_path);
			close(f);
			return -1;
		}
	}
	*fd = f;
	return 0;
}

/* The writers' lock: taken, then what killed writers left is cleaned. */
static int store_lock(struct store *s, int *fd, struct err *e)
{
	if (store_lock_only(s, fd, e) < 0)
		return -1;
	clean_temporaries(s);
	return 0;
}

static void store_unlock(int *fd)
{
	/* Closing the only descriptor of the open file releases the flock. */
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* "models/NAME" with NAME of [A-Za-z0-9._-] not starting with a dot: no "..", no other
 * directory, never a temporary file. */
static bool safe_model_file(const char *f)
{
	const char *n;
	size_t i;
	if (strncmp(f, "models/", 7) != 0)
		return false;
	n = f + 7;
	if (!isalnum_c(n[0]))
		return false;
	for (i = 0; n[i]; i++) {
		if (i >= 200)
			return false;
		if (!isalnum_c(n[i]) && n[i] != '.' && n[i] != '_' && n[i] != '-')
			return false;
	}
	return true;
}

static const char *entry_string(const cJSON *entry, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *index_models(cJSON *index)
{
	return cJSON_GetObjectItemCaseSensitive(index, "models");
}

static cJSON *models_find(cJSON *models, const char *id)
{
	cJSON *m;
	cJSON_ArrayForEach(m, models)
	{
		const char *mid = entry_string(m, "id");
		if (mid && !strcmp(mid, id))
			return m;
	}
	return NULL;
}

static bool models_reference(cJSON *models, const char *file)
{
	cJSON *m;
	cJSON_ArrayForEach(m, models)
	{
		const char *f = entry_string(m, "file");
		if (f && !strcmp(f, file))
			return true;
	}
	return false;
}

struct id_pos {
	const char *id;
	int pos;
};

static int id_pos_cmp(const void *a, const void *b)
{
	const struct id_pos *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : x->pos - y->pos;
}

/* Checks the shape of a parsed index; e says what is wrong (the caller names the file). */
static int index_validate(const cJSON *doc, struct err *e)
{
	const cJSON *version, *models, *m;
	struct id_pos *ids = NULL;
	int n = 0, i, ret = -1;

	if (!cJSON_IsObject(doc))
		return err_set(e, DYN_EDATA, "not a JSON object");
	version = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (!version)
		return err_set(e, DYN_EDATA, "missing \"version\"");
	if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
		char *txt = cJSON_PrintUnformatted(version);
		err_set(e, DYN_EDATA, "unsupported version %.40s (expected 1)", txt ? txt : "?");
		cJSON_free(txt);
		return -1;
	}
	models = cJSON_GetObjectItemCaseSensitive(doc, "models");
	if (!models)
		return err_set(e, DYN_EDATA, "missing \"models\"");
	if (!cJSON_IsArray(models))
		return err_set(e, DYN_EDATA, "\"models\" is not an array");
	ids = xmallocarray((size_t)cJSON_GetArraySize(models) + 1, sizeof(*ids));
	cJSON_ArrayForEach(m, models)
	{
		const char *id;
		if (!cJSON_IsObject(m)) {
			err_set(e, DYN_EDATA, "models[%d] is not an object", n);
			goto out;
		}
		id = entry_string(m, "id");
		if (!id) {
			err_set(e, DYN_EDATA, "models[%d] has no string \"id\"", n);
			goto out;
		}
		if (!store_valid_id(id)) {
			err_set(e, DYN_EDATA, "models[%d]: invalid id \"%.80s\"", n, id);
			goto out;
		}
		ids[n].id = id;
		ids[n].pos = n;
		n++;
	}
	qsort(ids, (size_t)n, sizeof(*ids), id_pos_cmp);
	for (i = 1; i < n; i++) {
		if (!strcmp(ids[i - 1].id, ids[i].id)) {
			err_set(e, DYN_EDATA, "duplicate id \"%s\" (models[%d] and models[%d])",
				ids[i].id, ids[i - 1].pos, ids[i].pos);
			goto out;
		}
	}
	ret = 0;
out:
	free(ids);
	return ret;
}

int store_read_index(struct store *s, struct cJSON **index, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	cJSON *doc = NULL;
	bool missing;
	int ret = -1;

	*index = NULL;
	if (read_whole(s->index_path, &sb, &missing, e) < 0) {
		if (!missing)
			goto out;
		err_clear(e);
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "version", 1);
		cJSON_AddItemToObject(doc, "models", cJSON_CreateArray());
	} else if (store_json_parse(sb.buf, sb.len, &doc, e) < 0 || index_validate(doc, e) < 0) {
		err_prefix(e, "\"%s\": corrupt catalogue", s->index_path);
		goto out;
	}
	*index = doc;
	doc = NULL;
	ret = 0;
out:
	cJSON_Delete(doc);
	strbuf_release(&sb);
	return ret;
}

struct cJSON *store_find(struct cJSON *index, const char *id, struct err *e)
{
	cJSON *m = models_find(index_models(index), id);
	if (!m)
		err_set(e, DYN_ENOTFOUND, "model \"%s\" not found", id);
	return m;
}

static int index_write(struct store *s, const cJSON *index, bool *renamed, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;
	struct iovec one;
	store_json_print(&sb, index);
	one.iov_base = sb.buf;
	one.iov_len = sb.len;
	ret = atomic_write_impl(s->index_path, &one, 1, renamed, e);
	strbuf_release(&sb);
	return ret;
}

/* The name of a new model file: models/ID.safetensors unless some entry (the one being
 * replaced, or another whose name happens to collide) still refers to it; then a name derived
 * from the content, so that the old file stays valid until the index switches. */
static char *model_file_name(cJSON *models, const char *id, const char *sha)
{
	struct strbuf sb = STRBUF_INIT;
	int i;
	strbuf_addf(&sb, "models/%s.safetensors", id);
	for (i = 0; models_reference(models, sb.buf); i++) {
		strbuf_reset(&sb);
		if (i == 0)
			strbuf_addf(&sb, "models/%s.%.12s.safetensors", id, sha);
		else
			strbuf_addf(&sb, "models/%s.%.12s-%d.safetensors", id, sha, i);
	}
	return strbuf_detach(&sb, NULL);
}

/* Builds the stored entry: id, kind, created_at, file, sha256, size first (the store is the
 * authority on all but kind and created_at), then the caller's other fields in their order.
 * Consumes entry. */
static cJSON *entry_complete(cJSON *entry, const char *id, const char *file, const char *sha,
			     size_t len)
{
	static const char *const ours[] = {"id", "file", "sha256", "size"};
	cJSON *n = cJSON_CreateObject(), *v;
	size_t i;

	cJSON_AddStringToObject(n, "id", id);
	v = cJSON_DetachItemFromObjectCaseSensitive(entry, "kind");
	if (v)
		cJSON_AddItemToObject(n, "kind", v);
	v = cJSON_DetachItemFromObjectCaseSensitive(entry, "created_at");
	if (cJSON_IsString(v)) {
		cJSON_AddItemToObject(n, "created_at", v);
	} else {
		char now[21];
		cJSON_Delete(v);
		utc_now(now);
		cJSON_AddStringToObject(n, "created_at", now);
	}
	for (i = 0; i < ARRAY_SIZE(ours); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(entry, ours[i]);
	cJSON_AddStringToObject(n, "file", file);
	cJSON_AddStringToObject(n, "sha256", sha);
	cJSON_AddNumberToObject(n, "size", (double)len);
	while (entry->child) {
		v = cJSON_DetachItemViaPointer(entry, entry->child);
		cJSON_AddItemToObject(n, v->string, v);
	}
	cJSON_Delete(entry);
	return n;
}

static int generate_id(cJSON *models, const char *prefix, char **out, struct err *e)
{
	int tries;
	for (tries = 0; tries < 1000; tries++) {
		unsigned char rnd[3];
		char hex[7];
		struct strbuf sb = STRBUF_INIT;
		if (random_bytes(rnd, sizeof(rnd)) < 0)
			return err_sys(e, "cannot get random bytes for a model id");
		hex_lower(hex, rnd, sizeof(rnd));
		strbuf_addf(&sb, "%s-%s", prefix, hex);
		if (!models_find(models, sb.buf)) {
			*out = strbuf_detach(&sb, NULL);
			return 0;
		}
		strbuf_release(&sb);
	}
	return err_set(e, DYN_EDATA, "no free model id with prefix \"%s\"", prefix);
}

/* A new model's id, or the prefix of a generated one, must be valid. */
static int check_new_id(const char *id, const char *prefix, struct err *e)
{
	if (id && !store_valid_id(id))
		return err_set(
		    e, DYN_EUSAGE,
		    "invalid model id \"%.80s\": ids match [A-Za-z0-9][A-Za-z0-9._-]{0,63}", id);
	if (!id && (!prefix || !store_valid_id(prefix) || strlen(prefix) > ID_MAX - ID_SUFFIX))
		return err_set(e, DYN_EUSAGE, "invalid model id prefix \"%.80s\"",
			       prefix ? prefix : "");
	return 0;
}

static const char *host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0)
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	return buf;
}

/* The process of entry's running training when it ran on this host: its pid, else 0 (no
 * running training, another host, or no pid recorded). */
static pid_t training_local_pid(const cJSON *entry)
{
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(entry, "training");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(tr, "pid");
	const char *st = entry_string(tr, "status"), *host = entry_string(tr, "host");
	char me[256];
	if (!st || strcmp(st, "running") || !cJSON_IsNumber(pid) || !host ||
	    strcmp(host, host_name(me, sizeof(me))) || !(pid->valuedouble >= 1) ||
	    !(pid->valuedouble < 4194305))
		return 0;
	return (pid_t)pid->valuedouble;
}

/* Whether entry is a running training of this very process. */
static bool training_ours(const cJSON *entry)
{
	return training_local_pid(entry) == getpid();
}

const char *store_entry_status(const struct cJSON *entry)
{
	const char *st =
	    entry_string(cJSON_GetObjectItemCaseSensitive(entry, "training"), "status");
	pid_t pid;
	/* Entries of before the training states, and models that train in one go, are done. */
	if (!st || !strcmp(st, "done") || !strcmp(st, "finished"))
		return "done";
	if (strcmp(st, "running"))
		return !strcmp(st, "failed") ? "failed" : "unknown";
	/* A training whose process is gone failed (killed, or the machine went down). A process
	 * on another host cannot be asked: it is taken at its word. */
	pid = training_local_pid(entry);
	if (pid && kill(pid, 0) < 0 && errno == ESRCH)
		return "failed";
	return "running";
}

int store_begin_training(struct store *s, const char *id, const char *prefix, bool replace,
			 struct cJSON *entry, char **id_out, bool *registered, struct err *e)
{
	cJSON *index = NULL, *models, *tr, *old;
	char *gen = NULL, now[21], me[256];
	bool renamed;
	int lock = -1, ret = -1;

	*id_out = NULL;
	*registered = false;
	if (check_new_id(id, prefix, e) < 0)
		goto out;
	if (store_lock(s, &lock, e) < 0 || store_read_index(s, &index, e) < 0)
		goto out;
	models = index_models(index);
	if (!id) {
		if (generate_id(models, prefix, &gen, e) < 0)
			goto out;
		id = gen;
	}
	if ((old = models_find(models, id)) && !strcmp(store_entry_status(old), "failed") &&
	    !entry_string(old, "file")) {
		/* A failed training has no model file, only its record: trying again with the same
		 * id, the obvious thing after fixing what failed, takes its place. */
		cJSON_Delete(cJSON_DetachItemViaPointer(models, old));
		old = NULL;
	}
	if (old) {
		if (!replace) {
			err_set(e, DYN_EUSAGE, "model \"%s\" already exists (use --replace)", id);
			goto out;
		}
		/* The model being replaced stays usable until its successor is done. */
		*id_out = xstrdup(id);
		ret = 0;
		goto out;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(entry, "id");
	cJSON_AddItemToObject(entry, "id", cJSON_CreateString(id));
	if (!cJSON_GetObjectItemCaseSensitive(entry, "created_at")) {
		utc_now(now);
		cJSON_AddStringToObject(entry, "created_at", now);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(entry, "training");
	tr = cJSON_AddObjectToObject(entry, "training");
	cJSON_AddStringToObject(tr, "status", "running");
	utc_now(now);
	cJSON_AddStringToObject(tr, "started_at", now);
	cJSON_AddNullToObject(tr, "finished_at");
	cJSON_AddNumberToObject(tr, "pid", (double)getpid());
	cJSON_AddStringToObject(tr, "host", host_name(me, sizeof(me)));
	cJSON_AddArrayToObject(tr, "epochs");
	cJSON_AddItemToArray(models, entry);
	entry = NULL;
	if (index_write(s, index, &renamed, e) < 0)
		goto out;
	*id_out = xstrdup(id);
	*registered = true;
	ret = 0;
out:
	store_unlock(&lock);
	cJSON_Delete(entry);
	cJSON_Delete(index);
	free(gen);
	return ret;
}

/* Rewrites the "training" object of this process's running entry id: its "epochs" replaced by
 * a copy of epochs when not NULL, else marked failed with msg. */
static int training_rewrite(struct store *s, const char *id, const struct cJSON *epochs,
			    const char *msg, struct err *e)
{
	cJSON *index = NULL, *entry, *tr;
	bool renamed;
	int lock = -1, ret = -1;
	char now[21];

	if (store_lock(s, &lock, e) < 0 || store_read_index(s, &index, e) < 0)
		goto out;
	entry = models_find(index_models(index), id);
	/* Removed meanwhile (dyn models rm), or no longer ours: nothing to record. */
	if (!entry || !training_ours(entry)) {
		ret = 0;
		goto out;
	}
	tr = cJSON_GetObjectItemCaseSensitive(entry, "training");
	if (epochs) {
		cJSON_DeleteItemFromObjectCaseSensitive(tr, "epochs");
		cJSON_AddItemToObject(tr, "epochs", cJSON_Duplicate(epochs, 1));
	} else {
		utc_now(now);
		cJSON_ReplaceItemInObjectCaseSensitive(tr, "status", cJSON_CreateString("failed"));
		cJSON_DeleteItemFromObjectCaseSensitive(tr, "finished_at");
		cJSON_AddStringToObject(tr, "finished_at", now);
		cJSON_DeleteItemFromObjectCaseSensitive(tr, "error");
		cJSON_AddStringToObject(tr, "error", msg ? msg : "");
	}
	ret = index_write(s, index, &renamed, e);
out:
	store_unlock(&lock);
	cJSON_Delete(index);
	return ret;
}

int store_update_epochs(struct store *s, const char *id, const struct cJSON *epochs, struct err *e)
{
	return training_rewrite(s, id, epochs, NULL, e);
}

int store_fail_training(struct store *s, const char *id, const char *msg, struct err *e)
{
	return training_rewrite(s, id, NULL, msg, e);
}

int store_add_model(struct store *s, const char *id, const char *prefix, bool replace,
		    const struct iovec *file, size_t nfile, struct cJSON *entry, char **id_out,
		    struct err *e)
{
	cJSON *index = NULL, *models, *old;
	char *gen = NULL, *name = NULL, *path = NULL, *old_file = NULL, *tmp = NULL;
	struct strbuf tmp_for = STRBUF_INIT;
	char sha[65];
	struct sha256 h;
	bool renamed, written = false;
	size_t len = 0, i;
	int lock = -1, ret = -1;

	if (id_out)
		*id_out = NULL;
	if (check_new_id(id, prefix, e) < 0)
		goto out;
	if (!cJSON_IsObject(entry)) {
		err_set(e, DYN_EDATA, "the index entry of a new model must be a JSON object");
		goto out;
	}
	if (store_lock(s, &lock, e) < 0 || store_read_index(s, &index, e) < 0)
		goto out;
	models = index_models(index);
	if (!id) {
		if (generate_id(models, prefix, &gen, e) < 0)
			goto out;
		id = gen;
	}
	old = models_find(models, id);
	if (old && !replace && !training_ours(old)) {
		err_set(e, DYN_EUSAGE, "model \"%s\" already exists (use --replace)", id);
		goto out;
	}
	/* One pass over the bytes writes and hashes them; the file's name, which may depend on
	 * the hash, is given by the rename. */
	for (i = 0; i < nfile; i++)
		len += file[i].iov_len;
	strbuf_addf(&tmp_for, "%s/models/%s.safetensors", s->dir, id);
	sha256_init(&h);
	ret = tmp_write(tmp_for.buf, file, nfile, &h, &tmp, e);
	sha256_final_hex(&h, sha);
	if (ret < 0)
		goto out;
	ret = -1;
	name = model_file_name(models, id, sha);
	path = path_join(s->dir, name);
	written = true;
	if (tmp_commit(tmp, path, &renamed, e) < 0) {
		written = renamed;
		goto out;
	}
	entry = entry_complete(entry, id, name, sha, len);
	if (old) {
		const char *f = entry_string(old, "file");
		old_file = f ? xstrdup(f) : NULL;
		cJSON_ReplaceItemViaPointer(models, old, entry);
	} else {
		cJSON_AddItemToArray(models, entry);
	}
	entry = NULL;
	if (index_write(s, index, &renamed, e) < 0) {
		/* Once renamed, the index may already name the new file: keep it. */
		written = !renamed;
		goto out;
	}
	written = false;
	/* Orphans are harmless, so a failure to unlink the old file is not an error. */
	if (old_file && safe_model_file(old_file) && !models_reference(models, old_file)) {
		char *p = path_join(s->dir, old_file);
		unlink(p);
		free(p);
	}
	if (id_out)
		*id_out = xstrdup(id);
	ret = 0;
out:
	if (written)
		unlink(path);
	store_unlock(&lock);
	cJSON_Delete(entry);
	cJSON_Delete(index);
	free(gen);
	free(name);
	free(path);
	free(old_file);
	strbuf_release(&tmp_for);
	return ret;
}

int store_remove(struct store *s, const char *const *ids, size_t n, bool force, struct err *e)
{
	cJSON *index = NULL, *models, *gone = cJSON_CreateArray(), *m;
	bool renamed;
	int lock = -1, ret = -1;
	size_t i;

	if (store_lock(s, &lock, e) < 0 || store_read_index(s, &index, e) < 0)
		goto out;
	models = index_models(index);
	/* All or nothing: every id is checked before the index changes. */
	for (i = 0; i < n && !force; i++) {
		if (!models_find(models, ids[i])) {
			err_set(e, DYN_ENOTFOUND, "model \"%s\" not found", ids[i]);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		m = models_find(models, ids[i]);
		if (m)
			cJSON_AddItemToArray(gone, cJSON_DetachItemViaPointer(models, m));
	}
	if (!gone->child) {
		ret = 0;
		goto out;
	}
	if (index_write(s, index, &renamed, e) < 0)
		goto out;
	/* Files go only once no entry names them: a killed process leaves orphans, never
	 * dangling entries. */
	cJSON_ArrayForEach(m, gone)
	{
		const char *f = entry_string(m, "file");
		const char *gid = entry_string(m, "id");
		if (f && safe_model_file(f) && !models_reference(models, f)) {
			char *p = path_join(s->dir, f);
			unlink(p);
			free(p);
		}
		if (gid)
			store_drop_checkpoint(s, gid);
	}
	ret = 0;
out:
	store_unlock(&lock);
	cJSON_Delete(gone);
	cJSON_Delete(index);
	return ret;
}

static bool is_sha256_hex(const char *s)
{
	size_t i;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/* True when the index no longer holds this entry as it was (same file, same hash): a writer
 * replaced or removed the model between the caller's read of the index and of the file. */
static bool entry_stale(struct store *s, const char *id, const char *file, const char *sha)
{
	struct err ignored = ERR_INIT;
	cJSON *index = NULL, *now;
	const char *f, *h;
	bool stale;
	if (store_read_index(s, &index, &ignored) < 0)
		return false;
	now = models_find(index_models(index), id);
	f = now ? entry_string(now, "file") : NULL;
	h = now ? entry_string(now, "sha256") : NULL;
	stale = !f || !h || strcmp(f, file) != 0 || strcmp(h, sha) != 0;
	cJSON_Delete(index);
	return stale;
}

/* Feeds the rest of the file to h. */
static int hash_fd(int fd, struct sha256 *h)
{
	unsigned char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		sha256_update(h, buf, (size_t)n);
	}
}

/* A model file being read: what its checks compare and report. */
struct model_file {
	const char *id, *file, *want;
	char *path;
	int fd;
	uint64_t size;
};

static int model_file_stale(const struct model_file *mf, struct err *e)
{
	/* Readers take no lock, so this race is theirs to report; rerunning sees the new index. */
	return err_set(e, DYN_EDATA, "model \"%s\" was replaced or removed while it was being read",
		       mf->id);
}

/* Checks the entry's "file" and "sha256", opens the file and checks its size against the
 * entry's "size" (when it has one). Errors as store_read_model says. */
static int model_file_open(struct store *s, const cJSON *entry, struct model_file *mf,
			   struct err *e)
{
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(entry, "size");
	uint64_t want_size;
	bool missing;

	mf->id = entry_string(entry, "id");
	mf->file = entry_string(entry, "file");
	mf->want = entry_string(entry, "sha256");
	mf->path = NULL;
	mf->fd = -1;
	if (!mf->id)
		mf->id = "?";
	if (!mf->file || !safe_model_file(mf->file))
		return err_set(e, DYN_EDATA,
			       "model \"%s\": its index entry has no valid \"file\" (models/NAME)",
			       mf->id);
	if (!mf->want || !is_sha256_hex(mf->want))
		return err_set(e, DYN_EDATA,
			       "model \"%s\": its index entry has no valid \"sha256\"", mf->id);
	mf->path = path_join(s->dir, mf->file);
	if (open_regular(mf->path, &mf->fd, &mf->size, &missing, e) < 0) {
		if (missing && entry_stale(s, mf->id, mf->file, mf->want))
			return model_file_stale(mf, e);
		if (missing)
			return err_set(e, DYN_EDATA, "model \"%s\": \"%s\" is missing", mf->id,
				       mf->file);
		err_prefix(e, "model \"%s\"", mf->id);
		return -1;
	}
	if (size && (!store_json_uint(size, &want_size) || want_size != mf->size)) {
		if (entry_stale(s, mf->id, mf->file, mf->want))
			return model_file_stale(mf, e);
		return err_set(e, DYN_EDATA,
			       "model \"%s\": \"%s\" does not match its index entry (size differs: "
			       "%llu bytes)",
			       mf->id, mf->file, (unsigned long long)mf->size);
	}
	return 0;
}

/* Compares the hash of the bytes read with the entry's. */
static int model_file_check(struct store *s, const struct model_file *mf, const char *got,
			    struct err *e)
{
	if (!strcmp(got, mf->want))
		return 0;
	if (entry_stale(s, mf->id, mf->file, mf->want))
		return model_file_stale(mf, e);
	return err_set(e, DYN_EDATA,
		       "model \"%s\": \"%s\" does not match its index entry (sha256 differs)",
		       mf->id, mf->file);
}

static void model_file_close(struct model_file *mf)
{
	if (mf->fd >= 0)
		close(mf->fd);
	free(mf->path);
}

int store_read_model(struct store *s, const struct cJSON *entry, void **buf, size_t *len,
		     struct err *e)
{
	struct model_file mf;
	struct strbuf sb = STRBUF_INIT;
	char got[65];
	int ret = -1;

	*buf = NULL;
	*len = 0;
	if (model_file_open(s, entry, &mf, e) < 0)
		goto out;
	if (mf.size < SIZE_MAX / 2)
		strbuf_grow(&sb, (size_t)mf.size);
	if (strbuf_read_fd(&sb, mf.fd) < 0) {
		err_sys(e, "model \"%s\": \"%s\": cannot read", mf.id, mf.path);
		goto out;
	}
	sha256_hex(sb.buf, sb.len, got);
	if (model_file_check(s, &mf, got, e) < 0)
		goto out;
	*buf = strbuf_detach(&sb, len);
	ret = 0;
out:
	model_file_close(&mf);
	strbuf_release(&sb);
	return ret;
}

int store_load_model(struct store *s, const struct cJSON *entry, struct st_file *f, struct err *e)
{
	struct model_file mf;
	struct sha256 h;
	struct err fe = ERR_INIT;
	char got[65];
	int r, ret = -1;

	if (model_file_open(s, entry, &mf, e) < 0)
		goto out;
	sha256_init(&h);
	r = st_read(f, mf.fd, mf.size, &h, &fe);
	sha256_final_hex(&h, got);
	if (r < 0) {
		/* A damaged file and a malformed one are told apart by its hash: read it again,
		 * whole (errors are rare enough for a second pass). */
		sha256_init(&h);
		if (lseek(mf.fd, 0, SEEK_SET) < 0 || hash_fd(mf.fd, &h) < 0) {
			sha256_final_hex(&h, got);
			err_sys(e, "model \"%s\": \"%s\": cannot read", mf.id, mf.path);
			goto out;
		}
		sha256_final_hex(&h, got);
		if (model_file_check(s, &mf, got, e) < 0)
			goto out;
		*e = fe;
		err_prefix(e, "model \"%s\"", mf.id);
		goto out;
	}
	if (model_file_check(s, &mf, got, e) < 0) {
		st_release(f);
		goto out;
	}
	ret = 0;
out:
	model_file_close(&mf);
	return ret;
}

struct check_run {
	int (*fn)(void *arg, const char *path, const char *problem, bool removed);
	void *arg;
	bool repair;
	int ret;
	size_t found;
};

static void check_report(struct check_run *c, const char *path, const char *problem, bool removable)
{
	bool removed = false;
	if (c->ret)
		return;
	if (c->repair && removable)
		removed = unlink(path) == 0;
	c->found += !removed;
	c->ret = c->fn(c->arg, path, problem, removed);
}

static void check_temporary(void *arg, const char *path)
{
	check_report(arg, path, "temporary file left by a killed writer", true);
}

int store_check(struct store *s, bool repair,
		int (*fn)(void *arg, const char *path, const char *problem, bool removed),
		void *arg, struct err *e)
{
	struct check_run c = {fn, arg, repair, 0, 0};
	char *models = path_join(s->dir, "models");
	cJSON *index = NULL, *list;
	DIR *d = NULL;
	int lock = -1, ret = -1;

	if (store_lock_only(s, &lock, e) < 0 || store_read_index(s, &index, e) < 0)
		goto out;
	list = index_models(index);
	each_temporary(s->dir, check_temporary, &c);
	each_temporary(models, check_temporary, &c);
	/* model files no entry names (a writer killed between its file and the index) */
	d = opendir(models);
	for (struct dirent *de; d && !c.ret && (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		struct strbuf rel = STRBUF_INIT;
		if (de->d_name[0] == '.' || n < 12 || strcmp(de->d_name + n - 12, ".safetensors"))
			continue;
		strbuf_addf(&rel, "models/%s", de->d_name);
		if (!models_reference(list, rel.buf)) {
			char *p = path_join(s->dir, rel.buf);
			check_report(&c, p, "model file that no index entry names", true);
			free(p);
		}
		strbuf_release(&rel);
	}
	/* entries whose file is missing or differs */
	for (cJSON *m = list ? list->child : NULL; m && !c.ret; m = m->next) {
		struct err fe = ERR_INIT;
		void *buf = NULL;
		size_t len;
		const char *f = entry_string(m, "file");
		if (!strcmp(store_entry_status(m), "running"))
			continue;
		if (f && store_read_model(s, m, &buf, &len, &fe) < 0) {
			char *p = path_join(s->dir, f);
			check_report(&c, p, fe.msg, false);
			free(p);
		}
		free(buf);
	}
	if (c.ret) {
		err_set(e, DYN_EDATA, "store check stopped");
		goto out;
	}
	ret = (int)(c.found > 0);
out:
	if (d)
		closedir(d);
	store_unlock(&lock);
	cJSON_Delete(index);
	free(models);
	return ret;
}
