/* Cards read off pictures: to come. */
#include "cards/extract.h"
#include "base/base.h"

int card_extract(const struct img *im, const char *name, struct card *c, struct err *e)
{
	card_release(c);
	return err_set(e, DYN_EDATA, "%s: reading cards from pictures is not implemented yet",
		       name);
}
