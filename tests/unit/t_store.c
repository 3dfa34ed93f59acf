/* Unit tests of lib/store/store.c: opening, ids, the add/find/read/remove round trip, replace,
 * all-or-nothing removal, corrupt catalogues left untouched, tampered model files, atomic_write
 * failures, and an unwritable store. Concurrency and crash safety are in t_store_concurrency.c. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "check.h"
#include "base/sha256.h"
#include "store/safetensors.h"
#include "store/store.h"

static char root[64];
/* The one-byte model file "x". */
static const struct iovec X1 = {"x", 1};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void rm_rf(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_of(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/%s", dir, name);
	return strbuf_detach(&sb, NULL);
}

/* dir/name in one of a few static buffers: for paths used once inside an expression. */
static const char *P(const char *dir, const char *name)
{
	static char bufs[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(bufs[k], sizeof(bufs[k]), "%s/%s", dir, name);
	return bufs[k];
}

static int slurp(const char *path, struct strbuf *sb)
{
	int fd = open(path, O_RDONLY);
	int r;
	strbuf_reset(sb);
	if (fd < 0)
		return -1;
	r = strbuf_read_fd(sb, fd);
	close(fd);
	return r;
}

static int spit(const char *path, const char *s, size_t len)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return -1;
	if (fwrite(s, 1, len, fp) != len) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

/* Number of directory entries whose name starts with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

static bool exists(const char *dir, const char *name)
{
	char *p = path_of(dir, name);
	bool r = access(p, F_OK) == 0;
	free(p);
	return r;
}

static int n_models(cJSON *index)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(index, "models"));
}

static const char *field(const cJSON *entry, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int add(struct store *s, const char *id, bool replace, const char *content, char **idout,
	       struct err *e)
{
	cJSON *entry =
	    cJSON_Parse("{\"kind\": \"logreg\", \"params\": {\"C\": 0.1}, \"note\": \"n\"}");
	/* In two pieces, as the pieces of an st_image are written. */
	size_t half = strlen(content) / 2;
	struct iovec v[2] = {{(void *)(uintptr_t)content, half},
			     {(void *)(uintptr_t)(content + half), strlen(content) - half}};
	return store_add_model(s, id, "logreg", replace, v, 2, entry, idout, e);
}

static void test_open(void)
{
	struct store *s = NULL;
	struct err e = ERR_INIT;
	char *deep = path_of(root, "a/b/c/"), *file = path_of(root, "plain"), *under;

	check(store_open(&s, deep, &e) == 0, "open creates missing parents (%s)", e.msg);
	if (s) {
		check(!strncmp(store_dir(s), deep, strlen(deep) - 1) &&
			  strlen(store_dir(s)) == strlen(deep) - 1,
		      "trailing slash dropped: %s", store_dir(s));
		store_free(&s);
	}
	check(s == NULL, "store_free clears the pointer");
	free(deep);
	deep = path_of(root, "a/b/c/models");
	{
		struct stat st;
		check(stat(deep, &st) == 0 && S_ISDIR(st.st_mode), "models/ created");
	}
	check(store_open(&s, P(root, "a/b/c"), &e) == 0, "open an existing store");
	store_free(&s);

	spit(file, "x", 1);
	check(store_open(&s, file, &e) < 0 && s == NULL, "a store path that is a file fails");
	{
		struct strbuf want = STRBUF_INIT;
		strbuf_addf(&want, "\"%s\": not a directory", file);
		check(!strcmp(e.msg, want.buf) && e.code == DYN_EDATA, "message: %s", e.msg);
		strbuf_release(&want);
	}
	under = path_of(file, "sub");
	check(store_open(&s, under, &e) < 0, "a store path under a file fails");
	{
		struct strbuf want = STRBUF_INIT;
		/* mkdir -p names the component that is in the way. */
		strbuf_addf(&want, "\"%s\": not a directory", file);
		check(!strcmp(e.msg, want.buf), "message: %s", e.msg);
		strbuf_release(&want);
	}
	free(deep);
	free(file);
	free(under);
}

static void test_ids(void)
{
	static const char *const good[] = {
	    "a",       "Z",
	    "0",       "svc-3f9a1c",
	    "a.b_c-d", "a..",
	    "x-",      "0123456789012345678901234567890123456789012345678901234567890123"};
	static const char *const bad[] = {
	    "",
	    "/",
	    "a/b",
	    "..",
	    ".",
	    ".hidden",
	    "-a",
	    "_a",
	    "a b",
	    "a\n",
	    "caf\xc3\xa9",
	    "01234567890123456789012345678901234567890123456789012345678901234",
	    "a\\b"};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(good); i++)
		check(store_valid_id(good[i]), "valid id \"%s\"", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		check(!store_valid_id(bad[i]), "invalid id %zu (%zu chars)", i, strlen(bad[i]));
	check(strlen(good[ARRAY_SIZE(good) - 1]) == 64, "the long good id has 64 chars");
	check(!store_valid_id(NULL), "NULL id invalid");
}

static void test_helpers(void)
{
	char hex[65], now[21];
	/* FIPS 180-2 test vectors. */
	sha256_hex("abc", 3, hex);
	check(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	      "sha256(\"abc\")");
	sha256_hex("", 0, hex);
	check(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	      "sha256(\"\")");
	utc_now(now);
	check(strlen(now) == 20 && now[4] == '-' && now[7] == '-' && now[10] == 'T' &&
		  now[13] == ':' && now[16] == ':' && now[19] == 'Z' && !strncmp(now, "20", 2),
	      "utc_now: %s", now);
}

static void test_round_trip(void)
{
	char *dir = path_of(root, "rt"), *gen = NULL, *idout = NULL;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	cJSON *index = NULL, *m;
	struct strbuf text = STRBUF_INIT, before = STRBUF_INIT;
	char sha[65], *ipath = path_of(dir, "index.json");
	void *buf;
	size_t len;
	int r;

	store_open(&s, dir, &e);
	check(store_read_index(s, &index, &e) == 0 && n_models(index) == 0,
	      "missing index.json is an empty catalogue");
	check(!exists(dir, "index.json"), "reading does not create index.json");
	cJSON_Delete(index);

	r = add(s, "m1", false, "model one bytes", &idout, &e);
	check(r == 0 && idout && !strcmp(idout, "m1"), "add m1 (%s)", e.msg);
	free(idout);
	check(exists(dir, "models/m1.safetensors"), "models/m1.safetensors written");
	check(count_prefix(dir, ".tmp-") == 0 && count_prefix(P(dir, "models"), ".tmp-") == 0,
	      "no temporary files left");

	r = add(s, NULL, false, "model two", &gen, &e);
	check(r == 0 && gen && strlen(gen) == 13 && !strncmp(gen, "logreg-", 7) &&
		  strspn(gen + 7, "0123456789abcdef") == 6,
	      "generated id %s", gen ? gen : "(null)");

	check(store_read_index(s, &index, &e) == 0 && n_models(index) == 2, "index has 2 models");
	m = store_find(index, "m1", &e);
	check(m != NULL, "find m1");
	sha256_hex("model one bytes", 15, sha);
	check(m && !strcmp(field(m, "id"), "m1") && !strcmp(field(m, "kind"), "logreg") &&
		  !strcmp(field(m, "file"), "models/m1.safetensors") &&
		  !strcmp(field(m, "sha256"), sha) && strlen(field(m, "created_at")) == 20 &&
		  !strcmp(field(m, "note"), "n"),
	      "entry filled: id, kind, file, sha256, created_at, note kept");
	check(m && cJSON_GetObjectItem(m, "size") &&
		  cJSON_GetObjectItem(m, "size")->valuedouble == 15,
	      "entry has size");
	check(m && cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"), "C")->valuedouble == 0.1,
	      "params kept");
	check(store_find(index, "nope", &e) == NULL && e.code == DYN_ENOTFOUND &&
		  !strcmp(e.msg, "model \"nope\" not found"),
	      "find missing: %s", e.msg);

	buf = NULL;
	check(m && store_read_model(s, m, &buf, &len, &e) == 0 && len == 15 &&
		  !memcmp(buf, "model one bytes", 15),
	      "read_model returns the bytes (%s)", e.msg);
	free(buf);

	slurp(ipath, &text);
	check(text.len && text.buf[text.len - 1] == '\n', "index ends with a newline");
	check(!strncmp(text.buf,
		       "{\n  \"version\": 1,\n  \"models\": [\n    {\n      \"id\": \"m1\",\n", 55),
	      "index pretty-printed, version first");
	{
		const char *p = strstr(text.buf, "\"id\": \"m1\"");
		const char *k = p ? strstr(p, "\"kind\"") : NULL;
		const char *c = k ? strstr(k, "\"created_at\"") : NULL;
		const char *f = c ? strstr(c, "\"file\"") : NULL;
		const char *h = f ? strstr(f, "\"sha256\"") : NULL;
		const char *pa = h ? strstr(h, "\"params\"") : NULL;
		check(pa != NULL, "entry keys in order id, kind, created_at, file, sha256, params");
	}
	cJSON_Delete(index);

	/* Duplicate without replace: usage error, nothing changes. */
	slurp(ipath, &before);
	r = add(s, "m1", false, "other", NULL, &e);
	check(r < 0 && e.code == DYN_EUSAGE &&
		  !strcmp(e.msg, "model \"m1\" already exists (use --replace)"),
	      "duplicate id: %s", e.msg);
	slurp(ipath, &text);
	check(before.len == text.len && !memcmp(before.buf, text.buf, text.len),
	      "index untouched by a refused add");
	check(count_prefix(P(dir, "models"), "") == 4, "no new model file (., .., 2 models)");

	r = add(s, "a/b", false, "x", NULL, &e);
	check(r < 0 && e.code == DYN_EUSAGE &&
		  !strcmp(e.msg, "invalid model id \"a/b\": ids match "
				 "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"),
	      "invalid id: %s", e.msg);
	r = add(s, "..", false, "x", NULL, &e);
	check(r < 0 && e.code == DYN_EUSAGE, "invalid id \"..\"");
	r = store_add_model(s, NULL, "bad/prefix", false, &X1, 1, cJSON_CreateObject(), NULL, &e);
	check(r < 0 && e.code == DYN_EUSAGE, "invalid prefix: %s", e.msg);

	/* Remove. */
	{
		const char *ids[] = {"m1"};
		check(store_remove(s, ids, 1, false, &e) == 0, "remove m1");
		check(!exists(dir, "models/m1.safetensors"), "m1's file removed");
		check(exists(dir, "models/m1.safetensors") == false &&
			  store_read_index(s, &index, &e) == 0 && n_models(index) == 1 &&
			  store_find(index, gen, &e),
		      "index holds only the generated model");
		cJSON_Delete(index);
	}
	free(gen);
	store_free(&s);
	strbuf_release(&text);
	strbuf_release(&before);
	free(ipath);
	free(dir);
}

static bool same_file(const char *path, const struct strbuf *want)
{
	struct strbuf got = STRBUF_INIT;
	bool r =
	    slurp(path, &got) == 0 && got.len == want->len && !memcmp(got.buf, want->buf, got.len);
	strbuf_release(&got);
	return r;
}

static void test_replace(void)
{
	char *dir = path_of(root, "rep");
	struct store *s = NULL;
	struct err e = ERR_INIT;
	cJSON *index = NULL, *m;
	char sha[65], want[128];
	void *buf = NULL;
	size_t len;

	store_open(&s, dir, &e);
	add(s, "m", false, "version A", NULL, &e);
	add(s, "other", false, "other model", NULL, &e);
	check(add(s, "m", true, "version B", NULL, &e) == 0, "replace m (%s)", e.msg);
	sha256_hex("version B", 9, sha);
	snprintf(want, sizeof(want), "models/m.%.12s.safetensors", sha);
	store_read_index(s, &index, &e);
	m = store_find(index, "m", &e);
	check(n_models(index) == 2 && m && !strcmp(field(m, "file"), want),
	      "replacement written beside the current file: %s", m ? field(m, "file") : "");
	check(m && !strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(index, "models"), 0)
			       ->child->valuestring,
			   "m"),
	      "replaced entry keeps its place in the list");
	check(!exists(dir, "models/m.safetensors"), "old file removed after the switch");
	check(m && store_read_model(s, m, &buf, &len, &e) == 0 && len == 9 &&
		  !memcmp(buf, "version B", 9),
	      "new content read back");
	free(buf);
	cJSON_Delete(index);

	check(add(s, "m", true, "version C", NULL, &e) == 0, "replace again");
	store_read_index(s, &index, &e);
	m = store_find(index, "m", &e);
	check(m && !strcmp(field(m, "file"), "models/m.safetensors") && !exists(dir, want),
	      "and back to models/m.safetensors, the hashed file removed");
	cJSON_Delete(index);

	/* Replacing with identical content still switches files, never rewrites the live one. */
	check(add(s, "m", true, "version C", NULL, &e) == 0, "replace with the same bytes");
	store_read_index(s, &index, &e);
	m = store_find(index, "m", &e);
	sha256_hex("version C", 9, sha);
	snprintf(want, sizeof(want), "models/m.%.12s.safetensors", sha);
	check(m && !strcmp(field(m, "file"), want) && store_read_model(s, m, &buf, &len, &e) == 0,
	      "same bytes under %s", want);
	free(buf);
	cJSON_Delete(index);

	/* An id whose plain file name is another entry's hashed name does not clobber it. */
	{
		char id[64];
		snprintf(id, sizeof(id), "m.%.12s", sha);
		check(add(s, id, false, "collider", NULL, &e) == 0, "add id %s", id);
		store_read_index(s, &index, &e);
		m = store_find(index, "m", &e);
		check(m && store_read_model(s, m, &buf, &len, &e) == 0 && len == 9 &&
			  !memcmp(buf, "version C", 9),
		      "m's file intact (%s)", e.msg);
		free(buf);
		m = store_find(index, id, &e);
		check(m && strcmp(field(m, "file"), want) != 0 &&
			  store_read_model(s, m, &buf, &len, &e) == 0 && len == 8,
		      "collider stored as %s", m ? field(m, "file") : "");
		free(buf);
		cJSON_Delete(index);
	}
	/* A reader holding an entry from before a replace or a remove gets told so. */
	{
		cJSON *stale;
		const char *ids[] = {"m"};
		store_read_index(s, &index, &e);
		stale = cJSON_Duplicate(store_find(index, "m", &e), 1);
		cJSON_Delete(index);
		add(s, "m", true, "version D", NULL, &e);
		check(store_read_model(s, stale, &buf, &len, &e) < 0 &&
			  !strcmp(e.msg, "model \"m\" was replaced or removed while it was being "
					 "read"),
		      "entry read before a replace: %s", e.msg);
		cJSON_Delete(stale);
		store_read_index(s, &index, &e);
		stale = cJSON_Duplicate(store_find(index, "m", &e), 1);
		cJSON_Delete(index);
		add(s, "m", true, "version E", NULL, &e);
		add(s, "m", true, "version F", NULL, &e);
		check(!strcmp(field(stale, "file"), "models/m.safetensors") &&
			  store_read_model(s, stale, &buf, &len, &e) < 0 &&
			  strstr(e.msg, "was replaced or removed"),
		      "entry read two replaces ago, its file name since reused: %s", e.msg);
		store_remove(s, ids, 1, false, &e);
		check(store_read_model(s, stale, &buf, &len, &e) < 0 &&
			  strstr(e.msg, "was replaced or removed"),
		      "entry read before a remove: %s", e.msg);
		cJSON_Delete(stale);
	}
	store_free(&s);
	free(dir);
}

static void test_remove(void)
{
	char *dir = path_of(root, "rm"), *ipath = path_of(dir, "index.json");
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct strbuf before = STRBUF_INIT;
	cJSON *index = NULL;
	const char *two[] = {"a", "nope"}, *dup[] = {"b", "b"}, *none[] = {"x", "y"};

	store_open(&s, dir, &e);
	add(s, "a", false, "A", NULL, &e);
	add(s, "b", false, "B", NULL, &e);
	add(s, "c", false, "C", NULL, &e);
	slurp(ipath, &before);
	check(store_remove(s, two, 2, false, &e) < 0 && e.code == DYN_ENOTFOUND &&
		  !strcmp(e.msg, "model \"nope\" not found"),
	      "remove with a missing id fails: %s", e.msg);
	check(same_file(ipath, &before) && exists(dir, "models/a.safetensors"),
	      "nothing removed, index byte-identical");
	check(store_remove(s, two, 2, true, &e) == 0, "force removes what exists");
	check(!exists(dir, "models/a.safetensors") && exists(dir, "models/b.safetensors"),
	      "a's file gone, b's kept");
	check(store_remove(s, dup, 2, false, &e) == 0, "an id listed twice is removed once");
	store_read_index(s, &index, &e);
	check(n_models(index) == 1 && store_find(index, "c", &e), "only c left");
	cJSON_Delete(index);
	slurp(ipath, &before);
	check(store_remove(s, none, 2, true, &e) == 0 && same_file(ipath, &before),
	      "force with only missing ids changes nothing");
	check(store_remove(s, NULL, 0, false, &e) == 0, "removing nothing is fine");
	store_free(&s);
	strbuf_release(&before);
	free(ipath);
	free(dir);
}

struct corrupt_case {
	const char *text;
	const char *what;
};

static void test_corrupt_index(void)
{
	static const struct corrupt_case cases[] = {
	    {"{\"version\": 1, \"models\": [{\"id\": \"a\"}", "unexpected end of JSON at line 1"},
	    {"{\"version\": 1,\n \"models\": [}\n", "invalid JSON at line 2"},
	    {"", "empty JSON document"},
	    {"\n  \n", "empty JSON document"},
	    {"{\"version\": 2, \"models\": []}\n", "unsupported version 2 (expected 1)"},
	    {"{\"version\": \"1\", \"models\": []}\n", "unsupported version \"1\" (expected 1)"},
	    {"{\"models\": []}\n", "missing \"version\""},
	    {"{\"version\": 1}\n", "missing \"models\""},
	    {"{\"version\": 1, \"models\": {}}\n", "\"models\" is not an array"},
	    {"[]\n", "not a JSON object"},
	    {"{\"version\": 1, \"models\": [{\"id\": \"a\"}, 3]}\n", "models[1] is not an object"},
	    {"{\"version\": 1, \"models\": [{\"id\": 3}]}\n", "models[0] has no string \"id\""},
	    {"{\"version\": 1, \"models\": [{\"id\": \"../x\"}]}\n",
	     "models[0]: invalid id \"../x\""},
	    {"{\"version\": 1, \"models\": [{\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"a\"}]}\n",
	     "duplicate id \"a\" (models[0] and models[2])"},
	    {"{\"version\": 1, \"models\": []} {}\n", "invalid JSON at line 1"},
	    {"{\"version\": 1, \"models\": [{\"id\": \"\xc3\"}]}\n", "invalid UTF-8 at line 1"},
	};
	char *dir = path_of(root, "corrupt"), *ipath = path_of(dir, "index.json");
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct strbuf before = STRBUF_INIT, want = STRBUF_INIT;
	cJSON *index = NULL;
	const char *ids[] = {"a"};
	size_t i;

	store_open(&s, dir, &e);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		spit(ipath, cases[i].text, strlen(cases[i].text));
		slurp(ipath, &before);
		strbuf_reset(&want);
		strbuf_addf(&want, "\"%s\": corrupt catalogue: %s", ipath, cases[i].what);
		check(store_read_index(s, &index, &e) < 0 && index == NULL && e.code == DYN_EDATA &&
			  !strcmp(e.msg, want.buf),
		      "corrupt index %zu: %s", i, e.msg);
		err_clear(&e);
		check(add(s, "new", false, "bytes", NULL, &e) < 0 && !strcmp(e.msg, want.buf),
		      "corrupt index %zu: add refuses", i);
		err_clear(&e);
		check(store_remove(s, ids, 1, true, &e) < 0 && !strcmp(e.msg, want.buf),
		      "corrupt index %zu: remove refuses", i);
		check(same_file(ipath, &before) && count_prefix(P(dir, "models"), "n") == 0,
		      "corrupt index %zu: left byte-identical, no model written", i);
	}
	unlink(ipath);
	mkdir(ipath, 0777);
	strbuf_reset(&want);
	strbuf_addf(&want, "\"%s\": not a regular file", ipath);
	check(store_read_index(s, &index, &e) < 0 && !strcmp(e.msg, want.buf),
	      "index.json is a directory: %s", e.msg);
	check(add(s, "new", false, "bytes", NULL, &e) < 0 && !strcmp(e.msg, want.buf),
	      "index.json is a directory: add refuses");
	rmdir(ipath);
	store_free(&s);
	strbuf_release(&before);
	strbuf_release(&want);
	free(ipath);
	free(dir);
}

static void test_tampered(void)
{
	char *dir = path_of(root, "tamper"), *mpath = path_of(dir, "models/t.safetensors");
	struct store *s = NULL;
	struct err e = ERR_INIT;
	cJSON *index = NULL, *m;
	void *buf = NULL;
	size_t len;
	static const char *const unsafe[] = {"../x",
					     "models/../index.json",
					     "/etc/passwd",
					     "models/a/b",
					     "models/",
					     "models/.tmp-x",
					     "models/..",
					     "model/t.safetensors",
					     "models/t.safetensors/"};
	size_t i;

	store_open(&s, dir, &e);
	add(s, "t", false, "0123456789", NULL, &e);
	store_read_index(s, &index, &e);
	m = store_find(index, "t", &e);

	spit(mpath, "0123456789", 10);
	check(store_read_model(s, m, &buf, &len, &e) == 0, "intact file reads");
	free(buf);
	spit(mpath, "0123456780", 10);
	check(store_read_model(s, m, &buf, &len, &e) < 0 && buf == NULL && e.code == DYN_EDATA &&
		  !strcmp(e.msg, "model \"t\": \"models/t.safetensors\" does not match its index "
				 "entry (sha256 differs)"),
	      "one changed byte: %s", e.msg);
	spit(mpath, "012345678", 9);
	check(store_read_model(s, m, &buf, &len, &e) < 0 &&
		  !strcmp(e.msg, "model \"t\": \"models/t.safetensors\" does not match its index "
				 "entry (size differs: 9 bytes)"),
	      "truncated: %s", e.msg);
	/* Without a size field the hash still catches it. */
	cJSON_DeleteItemFromObject(m, "size");
	check(store_read_model(s, m, &buf, &len, &e) < 0 && strstr(e.msg, "(sha256 differs)"),
	      "truncated, no size in the entry: %s", e.msg);
	unlink(mpath);
	check(store_read_model(s, m, &buf, &len, &e) < 0 && e.code == DYN_EDATA &&
		  !strcmp(e.msg, "model \"t\": \"models/t.safetensors\" is missing"),
	      "deleted: %s", e.msg);
	for (i = 0; i < ARRAY_SIZE(unsafe); i++) {
		cJSON_ReplaceItemInObject(m, "file", cJSON_CreateString(unsafe[i]));
		check(store_read_model(s, m, &buf, &len, &e) < 0 &&
			  !strcmp(e.msg, "model \"t\": its index entry has no valid \"file\" "
					 "(models/NAME)"),
		      "unsafe file \"%s\" refused", unsafe[i]);
	}
	cJSON_ReplaceItemInObject(m, "file", cJSON_CreateString("models/t.safetensors"));
	cJSON_ReplaceItemInObject(m, "sha256", cJSON_CreateString("abc"));
	check(store_read_model(s, m, &buf, &len, &e) < 0 &&
		  !strcmp(e.msg, "model \"t\": its index entry has no valid \"sha256\""),
	      "bad sha256 field: %s", e.msg);
	cJSON_Delete(index);
	store_free(&s);
	free(mpath);
	free(dir);
}

/* A safetensors model written from an st_image's pieces and loaded back with store_load_model:
 * the file holds exactly st_serialize's bytes, the index their hash, and damage is reported. */
static void test_load_model(void)
{
	char *dir = path_of(root, "st"), *mpath = path_of(dir, "models/w.safetensors");
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct st_file f, g;
	struct st_image img;
	struct strbuf want = STRBUF_INIT, file = STRBUF_INIT;
	cJSON *index = NULL, *m, *entry = cJSON_CreateObject();
	/* More than the writer's 1 MiB chunk, after an odd-sized tensor. */
	size_t big = 300000, three = 3, i;
	double *w = xmallocarray(big, sizeof(double));
	const struct st_tensor *t;
	char hex[65];

	for (i = 0; i < big; i++)
		w[i] = (double)i / 7;
	st_init(&f);
	st_add(&f, "w", ST_F64, 1, &big, w);
	st_add(&f, "a", ST_U8, 1, &three, "abc");
	st_set_meta(&f, "dyn.kind", "test");
	st_serialize(&f, &want);
	st_image_init(&img, &f);
	store_open(&s, dir, &e);
	cJSON_AddStringToObject(entry, "kind", "test");
	check(store_add_model(s, "w", NULL, false, img.iov, img.niov, entry, NULL, &e) == 0,
	      "add a model from an st_image (%s)", e.msg);
	st_image_release(&img);
	sha256_hex(want.buf, want.len, hex);
	check(slurp(mpath, &file) == 0 && file.len == want.len &&
		  !memcmp(file.buf, want.buf, want.len),
	      "the file holds st_serialize's bytes (%zu)", file.len);
	store_read_index(s, &index, &e);
	m = store_find(index, "w", &e);
	check(m && !strcmp(field(m, "sha256"), hex) &&
		  cJSON_GetObjectItem(m, "size")->valuedouble == (double)want.len,
	      "the index has their sha256 and size");

	st_init(&g);
	check(m && store_load_model(s, m, &g, &e) == 0, "store_load_model (%s)", e.msg);
	t = st_get(&g, "w", ST_F64, 1, &e);
	check(t && t->shape[0] == big && !memcmp(t->data, w, big * sizeof(double)) &&
		  !memcmp(st_get(&g, "a", ST_U8, 1, &e)->data, "abc", 3) &&
		  !strcmp(st_get_meta(&g, "dyn.kind"), "test"),
	      "it reads back the same tensors");
	st_release(&g);

	/* A flipped byte in the data: the hash says so, and nothing is returned. */
	file.buf[file.len - 5] ^= 1;
	spit(mpath, file.buf, file.len);
	check(store_load_model(s, m, &g, &e) < 0 && g.n == 0 &&
		  !strcmp(e.msg, "model \"w\": \"models/w.safetensors\" does not match its index "
				 "entry (sha256 differs)"),
	      "one changed data byte: %s", e.msg);
	/* A changed header byte that breaks the format: still reported as damage. */
	file.buf[file.len - 5] ^= 1;
	file.buf[8] = '[';
	spit(mpath, file.buf, file.len);
	check(store_load_model(s, m, &g, &e) < 0 && g.n == 0 && strstr(e.msg, "(sha256 differs)"),
	      "one changed header byte: %s", e.msg);
	spit(mpath, file.buf, 100);
	check(store_load_model(s, m, &g, &e) < 0 && strstr(e.msg, "(size differs: 100 bytes)"),
	      "truncated: %s", e.msg);
	unlink(mpath);
	check(store_load_model(s, m, &g, &e) < 0 &&
		  !strcmp(e.msg, "model \"w\": \"models/w.safetensors\" is missing"),
	      "deleted: %s", e.msg);
	cJSON_Delete(index);

	/* Intact, but not a safetensors file: the format's error, naming the model. */
	add(s, "junk", false, "not a model file", NULL, &e);
	store_read_index(s, &index, &e);
	m = store_find(index, "junk", &e);
	check(m && store_load_model(s, m, &g, &e) < 0 && g.n == 0 &&
		  !strcmp(e.msg,
			  "model \"junk\": safetensors: header length 8029109312199880558 is "
			  "too large"),
	      "an intact file that is not safetensors: %s", e.msg);
	cJSON_Delete(index);
	st_release(&f);
	free(w);
	strbuf_release(&want);
	strbuf_release(&file);
	store_free(&s);
	free(mpath);
	free(dir);
}

static void test_atomic_write(void)
{
	char *dir = path_of(root, "aw"), *target = path_of(dir, "out.txt");
	struct err e = ERR_INIT;
	struct strbuf want = STRBUF_INIT;
	pid_t pid;
	int status;

	mkdir(dir, 0777);
	check(atomic_write(target, "hello\n", 6, &e) == 0, "atomic_write");
	strbuf_adds(&want, "hello\n");
	check(same_file(target, &want), "content written");
	check(atomic_write(P(dir, "missing/x"), "a", 1, &e) < 0 &&
		  strstr(e.msg, "cannot create a temporary file: No such file or directory"),
	      "missing directory: %s", e.msg);
	mkdir(P(dir, "isdir"), 0777);
	check(atomic_write(P(dir, "isdir"), "a", 1, &e) < 0 &&
		  strstr(e.msg, "cannot replace: Is a directory"),
	      "target is a directory: %s", e.msg);
	check(count_prefix(dir, ".tmp-") == 0, "temporary file removed after a failed rename");

	/* A write that fails midway (file size limit, as a full disk would): target untouched. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = {4096, 4096};
		char *big = xcalloc(1, 100000);
		struct err ce = ERR_INIT;
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		if (atomic_write(target, big, 100000, &ce) == 0)
			_exit(10);
		_exit(strstr(ce.msg, "cannot write: File too large") ? 0 : 11);
	}
	check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "failed write reports the error (child status %d)", status);
	check(same_file(target, &want) && count_prefix(dir, ".tmp-") == 0,
	      "failed write: target untouched, temporary file removed");
	strbuf_release(&want);
	free(target);
	free(dir);
}

/* A store the user cannot write: reading works, writing is a clean error. As root, permissions
 * do not bind, so the check runs in a child that drops to nobody. */
static void test_unwritable(void)
{
	char *dir = path_of(root, "ro");
	struct store *s = NULL;
	struct err e = ERR_INIT;
	int fds[2], status;
	pid_t pid;

	store_open(&s, dir, &e);
	add(s, "keep", false, "kept", NULL, &e);
	store_free(&s);
	unlink(P(dir, ".lock"));
	chmod(dir, 0555);
	chmod(P(dir, "models"), 0555);
	chmod(root, 0755);
	if (pipe(fds) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct store *cs = NULL;
		struct err ce = ERR_INIT;
		cJSON *index = NULL;
		close(fds[0]);
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(10);
		if (store_open(&cs, dir, &ce) < 0 || store_read_index(cs, &index, &ce) < 0 ||
		    n_models(index) != 1)
			_exit(11);
		cJSON_Delete(index);
		if (add(cs, "new", false, "x", NULL, &ce) == 0)
			_exit(12);
		if (write(fds[1], ce.msg, strlen(ce.msg)) < 0)
			_exit(13);
		store_free(&cs);
		_exit(0);
	}
	close(fds[1]);
	{
		struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
		strbuf_read_fd(&got, fds[0]);
		close(fds[0]);
		waitpid(pid, &status, 0);
		strbuf_addf(&want, "\"%s/.lock\": cannot open the store's lock: Permission denied",
			    dir);
		check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "unwritable store opens and reads (child status %d)", status);
		check(!strcmp(got.buf, want.buf), "unwritable store: %s", got.buf);
		strbuf_release(&got);
		strbuf_release(&want);
	}
	chmod(dir, 0755);
	chmod(P(dir, "models"), 0755);
	chmod(root, 0700);
	free(dir);
}

/* Whatever JSON a command puts in an entry comes back equal, and the file stays strict JSON
 * even when a string is not UTF-8. */
static void test_entry_values(void)
{
	static const char doc[] =
	    "{\"kind\": \"svc\", \"params\": {\"C\": 0.1, \"gamma\": \"scale\", \"shrinking\": "
	    "true,"
	    " \"class_weight\": null, \"degree\": 3}, \"features\": [\"age\", \"sex\", "
	    "\"tab\\there\"],"
	    " \"classes\": [0, 1, 2], \"metrics\": {\"accuracy\": 0.9333333333333333, \"tiny\": "
	    "1e-300,"
	    " \"big\": 123456789012345, \"neg\": -2.5e+100}, \"training\": {\"epochs\": "
	    "[{\"epoch\": 1,"
	    " \"loss\": 0.6931471805599453}, {\"epoch\": 2, \"loss\": 0.5}], \"status\": \"done\"},"
	    " \"data\": {\"paths\": [], \"rows\": 150}, \"note\": \"quote \\\" slash \\\\ \\u0436 "
	    "\\n\"}";
	char *dir = path_of(root, "values");
	struct store *s = NULL;
	struct err e = ERR_INIT;
	cJSON *want = cJSON_Parse(doc), *index = NULL, *m, *v;
	const char *keys[] = {"kind",	 "params",   "features", "classes",
			      "metrics", "training", "data",	 "note"};
	size_t i;
	int same = 0;

	store_open(&s, dir, &e);
	check(store_add_model(s, "v", NULL, false, &X1, 1, cJSON_Duplicate(want, 1), NULL, &e) == 0,
	      "add an entry with every kind of JSON value (%s)", e.msg);
	check(store_read_index(s, &index, &e) == 0, "index reads back (%s)", e.msg);
	m = store_find(index, "v", &e);
	for (i = 0; m && i < ARRAY_SIZE(keys); i++)
		same += cJSON_Compare(cJSON_GetObjectItem(want, keys[i]),
				      cJSON_GetObjectItem(m, keys[i]), 1);
	check(same == (int)ARRAY_SIZE(keys), "all %zu fields equal after the round trip (%d)",
	      ARRAY_SIZE(keys), same);
	v = m ? cJSON_GetObjectItem(cJSON_GetObjectItem(m, "metrics"), "accuracy") : NULL;
	check(v && v->valuedouble == 0.9333333333333333, "doubles exact");
	cJSON_Delete(index);

	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "note", "caf\xe9 \xff\xfe ok \xd0\xb6");
	check(store_add_model(s, "latin1", NULL, false, &X1, 1, v, NULL, &e) == 0,
	      "a note that is not UTF-8 is accepted");
	check(store_read_index(s, &index, &e) == 0, "and the index still reads (%s)", e.msg);
	m = store_find(index, "latin1", &e);
	check(m &&
		  !strcmp(field(m, "note"), "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd ok \xd0\xb6"),
	      "stray bytes became U+FFFD, valid UTF-8 kept");
	cJSON_Delete(index);
	cJSON_Delete(want);
	store_free(&s);
	free(dir);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/t_store.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_ids();
	test_helpers();
	test_round_trip();
	test_entry_values();
	test_replace();
	test_remove();
	test_corrupt_index();
	test_tampered();
	test_load_model();
	test_atomic_write();
	test_unwritable();
	rm_rf(root);
	return check_done();
}
