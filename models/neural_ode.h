// Neural ordinary differential equations (Chen, Rubanova, Bettencourt and Duvenaud 2018):
// a network f_θ is the velocity field of a state z(t) ∈ ℝ², dz/dt = f_θ(z), and an ODE
// solver (foundations/ode.h) turns an initial state into a trajectory. Fitted here to a 2-D
// spiral, the paper's demonstration: observations z*(t_k) of the true system, and
//   L(θ) = 1/(B·K·2) Σ_b Σ_k ‖z_b(t_k) − z*_b(t_k)‖²  over B start points, K steps ahead.
// Two ways to get ∂L/∂θ:
//   backpropagation through the solver: the tape (nn/tensor.h) records every stage of every
//   step (fixed-step RK4, or Dormand–Prince with error control, whose accepted steps feed the
//   loss), memory growing with the number of steps;
//   the adjoint method (the paper's §2): a(t) = ∂L/∂z(t) solves da/dt = −aᵀ ∂f/∂z backwards
//   in time together with z itself and g, dg/dt = −aᵀ ∂f/∂θ, so that ∂L/∂θ = g(t₀); a jumps by
//   ∂L/∂z(t_k) at each observation. Memory is constant; the vector-Jacobian products come
//   from the tape, one evaluation of f at a time. Backwards z is recomputed, not stored, so
//   the two gradients agree to the solver's accuracy, not exactly.
//
// The true system: dz/dt = Aᵀ z with A = [[−0.1, 2], [−2, −0.1]] (the matrix of the paper's
// example, without its cube), z(0) = (2, 0): a spiral that turns at 2 rad per unit of time
// and shrinks by e^−0.1t. Simplified: f_θ(z) = fc2(tanh(fc1(z))) is autonomous (no t input);
// the adjoint uses fixed-step RK4 with the forward pass's step count.
#ifndef MODELS_NEURAL_ODE_H
#define MODELS_NEURAL_ODE_H

#include <stdint.h>

#include "foundations/ode.h"
#include "nn/module.h"

typedef struct NeuralOde {
    Linear fc1, fc2;  // 2 → hidden → 2
    int hidden;
    Parameters params;
} NeuralOde;

int neural_ode_init(NeuralOde *model, int hidden, uint64_t seed, Error *error);
void neural_ode_free(NeuralOde *model);
// f_θ(z): z (B,2) -> (B,2), on the tape.
Tensor *neural_ode_velocity(Tape *tape, const NeuralOde *model, Tensor *z);

typedef enum { SOLVER_RK4, SOLVER_DOPRI5 } OdeSolverKind;

typedef struct OdeSolverConfig {
    OdeSolverKind kind;
    int steps_per_interval;  // RK4: steps between consecutive times (>= 1)
    OdeAdaptive adaptive;    // Dormand–Prince: tolerances and the step budget per interval
} OdeSolverConfig;

// z0 (B,2) through the uniform times 0, dt, …, K·dt on the tape: states[k] (B,2) at (k+1)·dt,
// k < K. The number of solver steps taken is added to *steps (may be NULL). Fails (-1, the
// tape's error or error) on a bad configuration or a step budget exceeded.
int neural_ode_solve(Tape *tape, const NeuralOde *model, const OdeSolverConfig *solver, Tensor *z0, float dt, int K,
                     Tensor **states, long *steps, Error *error);

// The loss L above for start points z0 (B,2) and targets (K,B,2) at times dt … K·dt, and its
// gradient into the parameters' grad (overwritten), by backpropagation through the solver
// or (adjoint 1, RK4 only) by the adjoint method.
int neural_ode_loss_gradient(const NeuralOde *model, const OdeSolverConfig *solver, int adjoint, const float *z0, int B,
                             const float *targets, float dt, int K, float *loss, Error *error);

// The true spiral at n times 0, dt, …: xy (n,2), solved by Dormand–Prince at 1e-10.
int spiral_trajectory(int n, float dt, float *xy, Error *error);

typedef struct OdeTraining {
    int iterations, batch, horizon;  // Adam steps; start points per step; K steps ahead (defaults 1000, 16, 10)
    float lr;                         // 0.01
    int adjoint;                      // gradients by the adjoint method instead of backpropagation
    uint64_t seed;
} OdeTraining;

// Fits model to the trajectory xy (n,2) at times k·dt: each step draws batch start points
// from the trajectory and integrates horizon intervals ahead. *final_loss: the last step's loss.
int neural_ode_train(NeuralOde *model, const OdeSolverConfig *solver, const float *xy, int n, float dt,
                     const OdeTraining *training, float *final_loss, Error *error);
// The model's trajectory from xy0 (2) at n times k·dt into out (n,2) (no gradient).
int neural_ode_trajectory(const NeuralOde *model, const OdeSolverConfig *solver, const float *xy0, int n, float dt,
                          float *out, Error *error);

#endif
