/* Pretrained encoder weights (see pretrained.h). */
#include <string.h>

#include "base/base.h"
#include "base/strbuf.h"
#include "models/pretrained.h"
#include "store/safetensors.h"

static void shape_str(struct strbuf *sb, const size_t *shape, size_t ndim)
{
	for (size_t i = 0; i < ndim; i++)
		strbuf_addf(sb, "%s%zu", i ? "x" : "", shape[i]);
}

int pretrained_load(struct nn_net *net, const struct nn_backbone *bb, const struct st_file *f,
		    const char *where, const char *encoder, struct err *e)
{
	int loaded = 0;
	for (int i = 0; i < nn_net_ntensors(net); i++) {
		const struct nn_tensor *t = nn_net_tensor(net, i);
		const struct st_tensor *s = NULL;
		if (!nn_backbone_is_encoder_tensor(bb, t->name))
			continue;
		for (size_t j = 0; j < f->n && !s; j++)
			if (!strcmp(f->t[j].name, t->name))
				s = &f->t[j];
		if (!s)
			return err_set(e, DYN_EDATA,
				       "%s: no tensor \"%s\": not a torchvision %s state dict",
				       where, t->name, encoder);
		if (s->dtype != ST_F32)
			return err_set(e, DYN_EDATA, "%s: tensor \"%s\" is not float32", where,
				       t->name);
		if (s->ndim != (size_t)t->ndim ||
		    memcmp(s->shape, t->shape, (size_t)t->ndim * sizeof(size_t))) {
			struct strbuf have = STRBUF_INIT, want = STRBUF_INIT;
			shape_str(&have, s->shape, s->ndim);
			shape_str(&want, t->shape, (size_t)t->ndim);
			err_set(e, DYN_EDATA, "%s: tensor \"%s\" is %s, the %s encoder needs %s",
				where, t->name, have.buf, encoder, want.buf);
			strbuf_release(&have);
			strbuf_release(&want);
			return -1;
		}
		memcpy(t->data, s->data, t->size * sizeof(float));
		loaded++;
	}
	if (!loaded)
		return err_set(e, DYN_EDATA, "%s: the network has no %s encoder to load", where,
			       encoder);
	return loaded;
}
