/* Hyperparameter tables: defaults, validation with messages that name the allowed range, JSON,
 * and grids for cross-validated search. */
#include <ctype.h>
#include <math.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "models/params.h"

static size_t spec_count(const struct param_spec *spec)
{
	size_t n = 0;
	while (spec[n].name)
		n++;
	return n;
}

static int choice_index(const char *choices, const char *s)
{
	size_t len = strlen(s);
	int i = 0;
	const char *p = choices;
	while (p && *p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == len && !memcmp(p, s, n))
			return i;
		i++;
		p = bar ? bar + 1 : NULL;
	}
	return -1;
}

/* The i-th choice, copied into buf. */
static void choice_name(const char *choices, int idx, char *buf, size_t size)
{
	const char *p = choices;
	int i;
	for (i = 0; i < idx && p; i++) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (!p) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, "%.*s",
		 (int)(strchr(p, '|') ? (size_t)(strchr(p, '|') - p) : strlen(p)), p);
}

static void choices_list(const char *choices, struct strbuf *out)
{
	const char *p;
	for (p = choices; *p; p++) {
		if (*p == '|')
			strbuf_adds(out, ", ");
		else
			strbuf_addch(out, *p);
	}
}

static void range_text(const struct param_spec *s, struct strbuf *out)
{
	int has_min = isfinite(s->min), has_max = isfinite(s->max);
	const char *what = s->type == PARAM_INT ? "an integer" : "a number";
	if (has_min && has_max && !(s->flags & PARAM_MIN_OPEN)) {
		strbuf_addf(out, "%s from ", what);
		strbuf_add_double(out, s->min);
		strbuf_adds(out, " to ");
		strbuf_add_double(out, s->max);
		return;
	}
	strbuf_adds(out, what);
	if (has_min) {
		strbuf_adds(out, (s->flags & PARAM_MIN_OPEN) ? " > " : " >= ");
		strbuf_add_double(out, s->min);
	}
	if (has_max) {
		strbuf_adds(out, has_min ? " and <= " : " <= ");
		strbuf_add_double(out, s->max);
	}
}

/* The names the old services used for a choice (the ticket service's "model": "logistic" or
 * "SVM"), taken as the dyn choice they mean (dyn-fit(1) lists them). */
static const struct {
	const char *kind, *param, *alias, *choice;
} choice_aliases[] = {
    {"text", "model", "logistic", "logreg"},
    {"text", "model", "SVM", "svm"},
    {"text", "model", "svc", "svm"},
};

static int parse_value(const struct param_spec *s, const char *kind, const char *text,
		       struct param_value *v, struct err *e)
{
	struct strbuf want = STRBUF_INIT;
	double num;
	int idx;

	for (size_t i = 0; i < ARRAY_SIZE(choice_aliases); i++)
		if (!strcmp(choice_aliases[i].kind, kind) &&
		    !strcmp(choice_aliases[i].param, s->name) &&
		    !strcmp(choice_aliases[i].alias, text)) {
			text = choice_aliases[i].choice;
			break;
		}
	if (s->type == PARAM_STRING) {
		if (strlen(text) <= (size_t)s->max) {
			free(v->str);
			v->str = xstrdup(text);
			v->choice = -1;
			v->num = NAN;
			return 0;
		}
		err_set(e, DYN_EUSAGE,
			"hyperparameter \"%s\" of %s: expected at most %g bytes, got %zu", s->name,
			kind, s->max, strlen(text));
		return -1;
	}
	if (s->type == PARAM_CHOICE || (s->flags & PARAM_OR_CHOICE)) {
		idx = choice_index(s->choices, text);
		if (idx >= 0) {
			v->choice = idx;
			v->num = NAN;
			return 0;
		}
	}
	switch (s->type) {
	case PARAM_STRING:
		break;
	case PARAM_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes")) {
			v->choice = -1;
			v->num = 1;
			return 0;
		}
		if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no")) {
			v->choice = -1;
			v->num = 0;
			return 0;
		}
		strbuf_adds(&want, "true or false");
		break;
	case PARAM_CHOICE:
		strbuf_adds(&want, "one of ");
		choices_list(s->choices, &want);
		break;
	case PARAM_NUM:
	case PARAM_INT:
		if (parse_double(text, (size_t)-1, &num, false) == 0 &&
		    (s->type != PARAM_INT || num == floor(num)) &&
		    (!isfinite(s->min) ||
		     ((s->flags & PARAM_MIN_OPEN) ? num > s->min : num >= s->min)) &&
		    (!isfinite(s->max) || num <= s->max)) {
			v->choice = -1;
			v->num = num;
			return 0;
		}
		if (s->flags & PARAM_OR_CHOICE) {
			strbuf_adds(&want, "one of ");
			choices_list(s->choices, &want);
			strbuf_adds(&want, " or ");
		}
		range_text(s, &want);
		break;
	}
	err_set(e, DYN_EUSAGE, "hyperparameter \"%s\" of %s: expected %s, got \"%s\"", s->name,
		kind, want.buf, text);
	strbuf_release(&want);
	return -1;
}

void params_init(struct params *p, const struct param_spec *spec)
{
	size_t i;
	p->spec = spec;
	p->n = spec ? spec_count(spec) : 0;
	p->v = xcalloc(p->n ? p->n : 1, sizeof(*p->v));
	for (i = 0; i < p->n; i++) {
		/* Defaults are part of the program: a bad one is a bug, caught by the unit tests.
		 */
		if (parse_value(&spec[i], "default", spec[i].def, &p->v[i], NULL) < 0) {
			p->v[i].choice = -1;
			p->v[i].num = NAN;
		}
	}
}

void params_release(struct params *p)
{
	for (size_t i = 0; p->v && i < p->n; i++)
		free(p->v[i].str);
	FREE_AND_NULL(p->v);
	p->n = 0;
}

void params_copy(struct params *dst, const struct params *src)
{
	dst->spec = src->spec;
	dst->n = src->n;
	dst->v = xmallocarray(src->n ? src->n : 1, sizeof(*dst->v));
	if (src->n)
		memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	for (size_t i = 0; i < src->n; i++)
		if (src->v[i].str)
			dst->v[i].str = xstrdup(src->v[i].str);
}

const struct param_spec *params_find(const struct param_spec *spec, const char *name)
{
	char norm[64];
	size_t i;
	if (!spec || strlen(name) >= sizeof(norm))
		return NULL;
	/* Options spell names with dashes (--max-iter), JSON with underscores (max_iter). */
	for (i = 0; name[i]; i++)
		norm[i] = name[i] == '-' ? '_' : name[i];
	norm[i] = '\0';
	for (; spec->name; spec++)
		if (!strcmp(spec->name, norm))
			return spec;
	return NULL;
}

int params_set(struct params *p, const char *kind, const char *name, const char *text,
	       struct err *e)
{
	const struct param_spec *s = params_find(p->spec, name);
	if (!s) {
		struct strbuf known = STRBUF_INIT;
		const struct param_spec *q;
		for (q = p->spec; q && q->name; q++)
			if (!(q->flags & PARAM_HIDDEN))
				strbuf_addf(&known, "%s%s", known.len ? ", " : "", q->name);
		err_set(e, DYN_EUSAGE, "unknown hyperparameter \"%s\" for %s (known: %s)", name,
			kind, known.buf);
		strbuf_release(&known);
		return -1;
	}
	return parse_value(s, kind, text, &p->v[s - p->spec], e);
}

/* The ECG service's "model": "logistic" | "SVM", beside its settings: the dyn kind it names. */
static const struct {
	const char *service, *kind;
} service_models[] = {
    {"logistic", "logreg"}, {"SVM", "svc"}, {"svm", "svc"}, {"SVC", "svc"}, {"svc", "svc"},
};

static int set_object(struct params *p, const char *kind, const cJSON *doc, int depth,
		      double *test_fraction, struct err *e);

/* The names the SLEAP service's training_config gave a keypoints model's settings. */
static const struct {
	const char *kind, *alias, *name;
} name_aliases[] = {
    {"keypoints", "num_epochs", "epochs"},
    {"keypoints", "learning_rate", "lr"},
    {"keypoints", "backbone_model", "backbone"},
    {"keypoints", "pretrained_encoder", "encoder"},
    {"keypoints", "heads_sigma", "sigma"},
    {"keypoints", "heads_output_stride", "output_stride"},
};

static const char *alias_name(const char *kind, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(name_aliases); i++)
		if (!strcmp(name_aliases[i].kind, kind) && !strcmp(name_aliases[i].alias, name))
			return name_aliases[i].name;
	return name;
}

/* The services' shapes: {"model": "...", "config" | "hyperparameters": {...}}. A settings
 * object is read as the hyperparameters; a "model" naming another kind is an error naming the
 * kind. 0 when it was one of them (handled), 1 when it is a plain hyperparameter. */
static int service_key(struct params *p, const char *kind, const cJSON *it, int depth,
		       double *test_fraction, struct err *e)
{
	if ((!strcmp(it->string, "config") || !strcmp(it->string, "hyperparameters") ||
	     !strcmp(it->string, "training_config")) &&
	    cJSON_IsObject(it) && depth == 0)
		return set_object(p, kind, it, depth + 1, test_fraction, e);
	/* the held-out share is dyn fit's --test-fraction, not a hyperparameter */
	if (!strcmp(it->string, "test_fraction") && test_fraction &&
	    !params_find(p->spec, "test_fraction")) {
		if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0 && it->valuedouble < 1))
			return err_set(e, DYN_EUSAGE,
				       "--params: \"test_fraction\": expected a number from 0 to "
				       "below 1");
		*test_fraction = it->valuedouble;
		return 0;
	}
	/* a setting the SLEAP service left unset (null) keeps dyn's default; elsewhere a null
	 * is a mistake worth naming */
	if (cJSON_IsNull(it) && alias_name(kind, it->string) != it->string)
		return 0;
	if (!strcmp(it->string, "model") && cJSON_IsString(it) && !params_find(p->spec, "model")) {
		for (size_t i = 0; i < ARRAY_SIZE(service_models); i++)
			if (!strcmp(service_models[i].service, it->valuestring)) {
				if (!strcmp(service_models[i].kind, kind))
					return 0;
				return err_set(e, DYN_EUSAGE,
					       "--params: \"model\": \"%s\" is dyn fit %s, not %s",
					       it->valuestring, service_models[i].kind, kind);
			}
		return err_set(e, DYN_EUSAGE,
			       "--params: \"model\": \"%s\": the kind is given as dyn fit KIND "
			       "(logistic is logreg, SVM is svc)",
			       it->valuestring);
	}
	return 1;
}

int params_set_json(struct params *p, const char *kind, const char *json, struct err *e)
{
	return params_set_json_common(p, kind, json, NULL, e);
}

int params_set_json_common(struct params *p, const char *kind, const char *json,
			   double *test_fraction, struct err *e)
{
	cJSON *doc = cJSON_Parse(json);
	int ret = -1;
	if (!doc || !cJSON_IsObject(doc)) {
		err_set(e, DYN_EUSAGE, "--params: expected a JSON object of hyperparameters");
		goto out;
	}
	ret = set_object(p, kind, doc, 0, test_fraction, e);
out:
	cJSON_Delete(doc);
	return ret;
}

static int set_object(struct params *p, const char *kind, const cJSON *doc, int depth,
		      double *test_fraction, struct err *e)
{
	const cJSON *it;
	int ret = -1;
	cJSON_ArrayForEach(it, doc)
	{
		int k = service_key(p, kind, it, depth, test_fraction, e);
		if (k < 0)
			goto out;
		if (k == 0)
			continue;
		{
			struct strbuf sb = STRBUF_INIT;
			int r;
			if (cJSON_IsNumber(it))
				strbuf_add_double(&sb, it->valuedouble);
			else if (cJSON_IsString(it))
				strbuf_adds(&sb, it->valuestring);
			else if (cJSON_IsBool(it))
				strbuf_adds(&sb, cJSON_IsTrue(it) ? "true" : "false");
			else {
				strbuf_release(&sb);
				err_set(e, DYN_EUSAGE,
					"--params: hyperparameter \"%s\": expected a number, "
					"string or boolean",
					it->string);
				goto out;
			}
			r = params_set(p, kind, alias_name(kind, it->string), sb.buf, e);
			strbuf_release(&sb);
			if (r < 0)
				goto out;
		}
	}
	ret = 0;
out:
	return ret;
}

static size_t index_of(const struct params *p, const char *name)
{
	const struct param_spec *s = params_find(p->spec, name);
	return s ? (size_t)(s - p->spec) : (size_t)-1;
}

double params_num(const struct params *p, const char *name)
{
	size_t i = index_of(p, name);
	return i == (size_t)-1 ? NAN : p->v[i].num;
}

int params_choice(const struct params *p, const char *name)
{
	size_t i = index_of(p, name);
	return i == (size_t)-1 ? -1 : p->v[i].choice;
}

const char *params_str(const struct params *p, const char *name)
{
	size_t i = index_of(p, name);
	return i == (size_t)-1 ? NULL : p->v[i].str;
}

void params_value_text(const struct params *p, size_t i, struct strbuf *out)
{
	const struct param_spec *s = &p->spec[i];
	char buf[64];
	if (s->type == PARAM_STRING) {
		strbuf_adds(out, p->v[i].str ? p->v[i].str : "");
	} else if (p->v[i].choice >= 0) {
		choice_name(s->choices, p->v[i].choice, buf, sizeof(buf));
		strbuf_adds(out, buf);
	} else if (s->type == PARAM_BOOL) {
		strbuf_adds(out, p->v[i].num != 0 ? "true" : "false");
	} else {
		strbuf_add_double(out, p->v[i].num);
	}
}

struct cJSON *params_to_json(const struct params *p)
{
	cJSON *obj = cJSON_CreateObject();
	size_t i;
	for (i = 0; i < p->n; i++) {
		const struct param_spec *s = &p->spec[i];
		if (s->type == PARAM_STRING) {
			cJSON_AddStringToObject(obj, s->name, p->v[i].str ? p->v[i].str : "");
		} else if (p->v[i].choice >= 0) {
			struct strbuf sb = STRBUF_INIT;
			params_value_text(p, i, &sb);
			cJSON_AddStringToObject(obj, s->name, sb.buf);
			strbuf_release(&sb);
		} else if (s->type == PARAM_BOOL) {
			cJSON_AddBoolToObject(obj, s->name, p->v[i].num != 0);
		} else {
			cJSON_AddNumberToObject(obj, s->name, p->v[i].num);
		}
	}
	return obj;
}

void grid_init(struct param_grid *g)
{
	memset(g, 0, sizeof(*g));
}

void grid_release(struct param_grid *g)
{
	size_t a, i;
	for (a = 0; a < g->naxes; a++) {
		for (i = 0; i < g->nvalues[a]; i++)
			free(g->values[a][i]);
		free(g->values[a]);
		free(g->names[a]);
	}
	free(g->values);
	free(g->names);
	free(g->nvalues);
	grid_init(g);
}

int grid_parse(struct param_grid *g, const struct params *base, const char *kind, const char *text,
	       struct err *e)
{
	struct params scratch;
	const char *p = text;
	int ret = -1;
	params_copy(&scratch, base);
	while (*p) {
		const char *start, *eq, *end;
		size_t a;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		end = p;
		eq = memchr(start, '=', (size_t)(end - start));
		if (!eq || eq == start || eq + 1 == end) {
			err_set(e, DYN_EUSAGE, "--grid: expected NAME=V1,V2,... got \"%.*s\"",
				(int)(end - start), start);
			goto out;
		}
		a = g->naxes++;
		g->names = xreallocarray(g->names, g->naxes, sizeof(*g->names));
		g->values = xreallocarray(g->values, g->naxes, sizeof(*g->values));
		g->nvalues = xreallocarray(g->nvalues, g->naxes, sizeof(*g->nvalues));
		g->names[a] = xstrndup(start, (size_t)(eq - start));
		g->values[a] = NULL;
		g->nvalues[a] = 0;
		if (!params_find(base->spec, g->names[a])) {
			params_set(&scratch, kind, g->names[a], "", e);
			goto out;
		}
		for (const char *v = eq + 1; v < end;) {
			const char *comma = memchr(v, ',', (size_t)(end - v));
			const char *vend = comma ? comma : end;
			char *val = xstrndup(v, (size_t)(vend - v));
			g->values[a] =
			    xreallocarray(g->values[a], g->nvalues[a] + 1, sizeof(char *));
			g->values[a][g->nvalues[a]++] = val;
			if (params_set(&scratch, kind, g->names[a], val, e) < 0) {
				err_prefix(e, "--grid");
				goto out;
			}
			v = comma ? comma + 1 : end;
		}
	}
	if (!g->naxes) {
		err_set(e, DYN_EUSAGE, "--grid: no hyperparameters given");
		goto out;
	}
	ret = 0;
out:
	params_release(&scratch);
	return ret;
}

size_t grid_size(const struct param_grid *g)
{
	size_t a, n = 1;
	for (a = 0; a < g->naxes; a++)
		n *= g->nvalues[a];
	return g->naxes ? n : 0;
}

int grid_point(const struct param_grid *g, size_t i, struct params *p, const char *kind,
	       struct err *e)
{
	size_t a;
	for (a = g->naxes; a-- > 0;) {
		size_t j = i % g->nvalues[a];
		i /= g->nvalues[a];
		if (params_set(p, kind, g->names[a], g->values[a][j], e) < 0)
			return -1;
	}
	return 0;
}
