/* Pretrained encoder weights: a torchvision state dict saved as safetensors, loaded by name
 * into the encoder layers of a backbone network (nn/backbone.h). */
#ifndef DYN_MODELS_PRETRAINED_H
#define DYN_MODELS_PRETRAINED_H

#include "base/err.h"
#include "nn/backbone.h"
#include "nn/nn.h"

struct st_file;

/* Copies into net every tensor of bb's encoder from f, by torchvision's names: each must be
 * there, float32, of the shape the layer has; others in f (a classifier's "fc", batch norm's
 * num_batches_tracked) are ignored. Errors (DYN_EDATA) name where (the file), the tensor and
 * both shapes; encoder names the encoder in them ("resnet18"). Returns the tensors loaded. */
int pretrained_load(struct nn_net *net, const struct nn_backbone *bb, const struct st_file *f,
		    const char *where, const char *encoder, struct err *e);

#endif
