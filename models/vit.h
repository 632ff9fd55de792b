// The Vision Transformer: Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner,
// Dehghani, Minderer, Heigold, Gelly, Uszkoreit and Houlsby, "An image is worth 16x16 words:
// Transformers for image recognition at scale", ICLR 2021 (arXiv:2010.11929, 2020), built on nn/
// from the Transformer's encoder layer (models/transformer.h).
//
// An image x (C,H,W) is cut into N = (H/P)·(W/P) patches of P×P pixels (7×7 on MNIST: 16 patches
// of 49 pixels); each is flattened and projected linearly to D dimensions (the convolution of
// stride P that is the same map); a learned class token is put in front and learned position
// embeddings are added (eq. 1):
//   z_0 = [x_class; x_p^1 E; …; x_p^N E] + E_pos             E (P²·C, D), E_pos (N+1, D)
//   z'_l = MSA(LN(z_{l−1})) + z_{l−1},  z_l = MLP(LN(z'_l)) + z'_l     l = 1..L   (eq. 2, 3)
//   y = LN(z_L^0)                                                        (eq. 4)
//   logits = head(y)
// trained by minimising the mean cross-entropy −log softmax(logits)_label over the batch. The
// MLP is Linear(D, mlp_dim) → GELU → Linear(mlp_dim, D); MSA has `heads` heads of D/heads.
//
// What is simplified or differs:
//   - The layers are models/transformer.h's TransformerEncoderLayer with norm_first (pre-LN, as
//     the paper) and GELU in its tanh approximation (nn_gelu; the paper's is the erf form).
//   - The head is one linear layer on the class token at every stage (the paper pre-trains with
//     an MLP head of one hidden layer and fine-tunes with a linear one); no pre-training, no
//     higher-resolution fine-tuning, no position-embedding interpolation: the image size is fixed.
//   - Dropout (one p for every place the encoder layer applies it, 0 by default) and no
//     stochastic depth, label smoothing, mixup or RandAugment.
//   - Initialisation: PyTorch's defaults for the patch projection, the head and the norms,
//     nn.Transformer's xavier_uniform for the layers' matrices, the class token zeros and the
//     position embeddings N(0, 0.02²) (torchvision's VisionTransformer); the paper's JAX code
//     zero-initialises the head.
//
// Names are PyTorch's (tools/reference/vit_reference.py): cls_token (1,1,D), pos_embed (1,N+1,D),
// patch_embed.proj.weight (D,C,P,P) and .bias (D), encoder.layers.<l>.self_attn.in_proj_weight,
// … .norm2.bias (torch.nn.TransformerEncoder's), encoder.norm.weight/bias, head.weight/bias.
// The number of heads is not in the tensors: checkpoints carry it as the metadata "heads".
#ifndef MODELS_VIT_H
#define MODELS_VIT_H

#include "foundations/safetensors.h"
#include "models/transformer.h"
#include "nn/trainer.h"

enum { VIT_MAX_DEPTH = TRANSFORMER_MAX_LAYERS, VIT_MAX_PATCHES = 4096 };

typedef struct VitConfig {
    int in_channels;  // C: 1 for MNIST
    int image_size;   // H = W: 28
    int patch_size;   // P: 7 (must divide image_size)
    int dim;          // D
    int depth;        // L encoder layers
    int heads;        // must divide D
    int mlp_dim;      // the MLP's hidden width (D · mlp ratio)
    int classes;
    float dropout;    // in [0, 1)
} VitConfig;

typedef struct Vit {
    VitConfig config;
    Conv2d patch_embed;  // "patch_embed.proj": kernel P, stride P
    Tensor *cls_token;   // (1,1,D)
    Tensor *pos_embed;   // (1,N+1,D)
    TransformerEncoderLayer layers[VIT_MAX_DEPTH];  // "encoder.layers.<l>"
    LayerNorm norm;      // "encoder.norm"
    Linear head;         // D -> classes
    Random dropout_rng;  // the dropout masks while training
    char heads_text[16], dropout_text[32];  // the metadata values of "heads" and "dropout"
    Parameters params;
} Vit;

// The defaults on MNIST: 1×28×28, patches 7×7, D 48, 3 layers of 4 heads, MLP 96 (60,826
// parameters, LeNet-5's 6-16-120-84 has 61,706), 10 classes, no dropout.
VitConfig vit_default_config(void);
// Errors (one line naming the value): sizes below 1, a patch size that does not divide the
// image, more than VIT_MAX_PATCHES patches, depth above VIT_MAX_DEPTH, heads not dividing dim,
// dropout outside [0, 1).
int vit_check_config(const VitConfig *config, Error *error);
int vit_create(Vit *model, const VitConfig *config, Random *rng, Error *error);
// The configuration read from the state_dict's shapes (patch_embed.proj.weight (D,C,P,P),
// pos_embed (1,N+1,D) giving the image side P·√N, the layers counted up to the first missing
// encoder.layers.<l>, linear1 (mlp_dim, D), head (classes, D)) and the metadata "heads"
// (required) and "dropout" (0 when absent), then the weights loaded; every error names the
// file and the tensor or key.
int vit_from_file(Vit *model, const Safetensors *file, const char *path, Error *error);
void vit_free(Vit *model);

// x (B, C, H, W) of the configured sizes -> logits (B, classes). training: dropout on. A NULL
// result and the tape's error for an input of another shape.
Tensor *vit_forward(Tape *tape, Vit *model, Tensor *x, int training);
Classifier vit_as_classifier(Vit *model);

// The last layer's attention of the class token over the N patches, averaged over the heads,
// for one image (C,H,W) in evaluation mode: weights (N) in patch order (row by row); *to_self
// receives the weight the class token gives itself (the N + 1 weights sum to 1). Errors: out
// of memory.
int vit_class_attention(Vit *model, const float *image, float *weights, float *to_self, Error *error);

#endif
