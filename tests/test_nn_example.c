// The README's framework example, compiled and run: a 784-128-10 network trained on MNIST
// with the tape, Adam and a state_dict written as safetensors. The test is that it learns.
#include <stdio.h>

#include "foundations/idx.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "nn/state_dict.h"
#include "tests/check.h"

static void the_readme_example_learns(void) {
    Error error;
    MnistSet mnist;
    REQUIRE(mnist_load("data/mnist", "train", &mnist, &error) == 0, "%s", error.message);
    Random rng;
    random_seed(&rng, 1);
    Parameters params = {0};
    Linear fc1, fc2;  // registered as fc1.weight, fc1.bias, fc2.weight, fc2.bias
    linear_init(&fc1, &params, "fc1", 784, 128, 1, &rng, &error);
    linear_init(&fc2, &params, "fc2", 128, 10, 1, &rng, &error);
    OptimizerGroup adam = {optimizer_default_config(OPTIMIZER_ADAM), 1.0f};
    ParamOptimizer optimizer;
    param_optimizer_init(&optimizer, &params, &adam, 1, NULL, &error);
    Tape tape;
    tape_init(&tape);
    float last = 0.0f;
    for (int step = 0; step < 100; step++) {
        int first = step * 64 % (mnist.count - 64);  // the next 64 images
        tape_reset(&tape);                           // frees the last step's values and graph at once
        Tensor *x = tensor_from(&tape, mnist.images + (long)first * 784, 2, (int[]){64, 784});
        Tensor *logits = linear_apply(&tape, &fc2, nn_relu(&tape, linear_apply(&tape, &fc1, x)));
        Tensor *loss = nn_cross_entropy(&tape, logits, mnist.labels + first, NN_NO_IGNORE, 0.0f);
        parameters_zero_grad(&params);
        CHECK(tape_backward(&tape, loss, &error) == 0, "%s", error.message);
        param_optimizer_step(&optimizer, 1e-3f);
        if (step % 25 == 0) printf("step %d: loss %.3f\n", step, loss->data[0]);
        last = loss->data[0];
    }
    CHECK(state_dict_save(&params, check_path("mlp.safetensors"), NULL, 0, &error) == 0, "%s", error.message);
    CHECK(last < 0.6f, "the loss after 100 steps is %g", (double)last);
    tape_free(&tape), param_optimizer_free(&optimizer), parameters_free(&params), mnist_free(&mnist);
}

static const CheckCase CASES[] = {
    {"the README's example learns MNIST", the_readme_example_learns},
};

int main(int argc, char **argv) { return check_run(argc, argv, CASES, sizeof CASES / sizeof *CASES); }
