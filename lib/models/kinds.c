/* The table of model kinds: the only place that lists them. */
#include <stddef.h>

#include "models/model.h"

extern const struct model_kind model_logreg;
extern const struct model_kind model_svc;
extern const struct model_kind model_text;
extern const struct model_kind model_dynamogram;
extern const struct model_kind model_keypoints;
extern const struct model_kind model_ocr;

const struct model_kind *const model_kinds[] = {
    &model_logreg, &model_svc, &model_text, &model_dynamogram, &model_keypoints, &model_ocr, NULL,
};
