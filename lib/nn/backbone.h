/* Networks for dense prediction (keypoint confidence maps): descriptions of UNet, LEAP, stacked
 * hourglass and encoder-decoder backbones over torchvision's VGG16, ResNet18/34/50 and
 * MobileNetV2 encoders,
 * their layers named as torchvision names them so that a state dict loads by name. */
#ifndef DYN_NN_BACKBONE_H
#define DYN_NN_BACKBONE_H

#include "base/err.h"
#include "base/strv.h"
#include "nn/nn.h"

enum nn_backbone_kind {
	NN_BACKBONE_UNET,      /* SLEAP's default: conv blocks, max pooling, bilinear upsampling
				* with skip connections */
	NN_BACKBONE_LEAP,      /* LEAP CNN: three convolutions a level, no skip connections */
	NN_BACKBONE_HOURGLASS, /* one stacked-hourglass module on a stride-4 stem */
	NN_BACKBONE_ENCODER,   /* a torchvision encoder (nn_encoder) and a UNet-like decoder */
};

enum nn_encoder {
	NN_ENCODER_RESNET18,
	NN_ENCODER_RESNET34,
	NN_ENCODER_RESNET50,
	NN_ENCODER_VGG16,
	NN_ENCODER_MOBILENET_V2,
};

struct nn_backbone_opts {
	enum nn_backbone_kind kind;
	enum nn_encoder encoder; /* NN_BACKBONE_ENCODER */
	int c, h, w;		 /* the input (a torchvision encoder takes c = 3) */
	int nout;		 /* output channels: one confidence map a node */
	int filters;		 /* first level's filters; 0: 16 (unet), 32 (leap), 32 (hourglass),
				  * the decoder's at stride 16 for an encoder: 0 is 256 */
	double filters_rate;	 /* growth a level down; 0: 2 */
	int max_stride;		 /* unet, leap, hourglass: the deepest stride, a power of 2 (0: 16;
				  * hourglass: 4 x 2^levels) */
	int output_stride;	 /* of the confidence maps: a power of 2 up to the deepest stride */
	int batchnorm;		 /* unet and leap: batch norm after each convolution */
	int encoder_only;	 /* NN_BACKBONE_ENCODER: the encoder's deepest features alone */
};

/* A built description: layers for nn_net_desc (names owned here: keep this alive as long as
 * the networks built from it), and the output's shape. Embedded value: nn_backbone_release. */
struct nn_backbone {
	struct nn_layer_desc *layers;
	int nlayers;
	size_t alloc;
	struct strv names;
	int out_c, out_h, out_w;
	/* torchvision encoders: the prefixes of the encoder's tensors ("conv1", "layer1"...,
	 * "features"), the ones a pretrained state dict must provide */
	const char *const *encoder_prefixes;
};

/* Describes the network o asks for into bb (nn_backbone_release it also on error); the input
 * must divide by the deepest stride, the output stride must be a power of 2 no deeper than it
 * (e says which and why). */
int nn_backbone_describe(struct nn_backbone *bb, const struct nn_backbone_opts *o, struct err *e);
void nn_backbone_release(struct nn_backbone *bb);

/* The deepest stride of o's network (32 for the encoders). */
int nn_backbone_max_stride(const struct nn_backbone_opts *o);

/* "resnet18", "resnet34", "resnet50", "vgg16", "mobilenetv2": -1 for an unknown name.
 * nn_encoder_name is static. */
int nn_encoder_parse(const char *name, enum nn_encoder *out);
const char *nn_encoder_name(enum nn_encoder enc);
/* "unet", "leap", "hourglass", "encoder". */
int nn_backbone_parse(const char *name, enum nn_backbone_kind *out);

/* Whether tensor name belongs to bb's torchvision encoder (its layers' names as torchvision
 * gives them): what a pretrained encoder's weights file must hold. */
int nn_backbone_is_encoder_tensor(const struct nn_backbone *bb, const char *name);

#endif
