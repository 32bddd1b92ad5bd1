// Optimizer updates in place over a flat span of n parameters, with Keras 3's
// update rules (keras/src/optimizers/*.py). t = iterations + 1 is the step
// being taken; state buffers start at zero unless noted. Hyper-parameters come
// in double so that 1 − β is exact before it is rounded to float32, as in Keras,
// where Python computes it.
#pragma once
#include <cstdint>

namespace fastdnn {

// m ← μ·m − lr·g;  w ← w + m   (nesterov: w ← w + μ·m − lr·g).  m null when μ = 0: w ← w − lr·g.
void sgd_update(float* w, const float* g, float* m, int64_t n, double lr, double momentum,
                bool nesterov);

// m += (g−m)(1−β₁); v += (g²−v)(1−β₂); amsgrad: v̂ = max(v̂, v);
// w −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε)       (ε outside the bias correction, as Keras)
// v_max is null unless amsgrad. AdamW is this plus decoupled weight decay.
void adam_update(float* w, const float* g, float* m, float* v, float* v_max, int64_t n,
                 double lr, double beta_1, double beta_2, double epsilon, int64_t t);

// v ← ρv + (1−ρ)g²; centered: ḡ ← ρḡ + (1−ρ)g, den = v − ḡ² + ε, else den = v + ε;
// Δ = lr·g/√den; momentum: m ← μm + Δ, w −= m; else w −= Δ.
// m null when μ = 0; g_avg null unless centered.
void rmsprop_update(float* w, const float* g, float* v, float* m, float* g_avg, int64_t n,
                    double lr, double rho, double momentum, double epsilon);

// a += g²; w −= lr·g/√(a + ε)     (a starts at initial_accumulator_value, 0.1 in Keras)
void adagrad_update(float* w, const float* g, float* accumulator, int64_t n, double lr,
                    double epsilon);

// E[g²] ← ρE[g²] + (1−ρ)g²; Δ = −√(E[Δ²]+ε)/√(E[g²]+ε)·g; E[Δ²] ← ρE[Δ²] + (1−ρ)Δ²; w += lr·Δ
void adadelta_update(float* w, const float* g, float* mean_square_grad,
                     float* mean_square_delta, int64_t n, double lr, double rho, double epsilon);

// m += (g−m)(1−β₁); u ← max(β₂u, |g|); w −= lr·m/((1−β₁ᵗ)(u + ε))
void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, double lr,
                   double beta_1, double beta_2, double epsilon, int64_t t);

// Nadam with Keras' momentum schedule μₜ = β₁(1 − ½·0.96ᵗ):
// m̂ = μₜ₊₁m/(1 − Πₜ·μₜ₊₁) + (1−μₜ)g/(1 − Πₜ); v̂ = v/(1−β₂ᵗ); w −= lr·m̂/(√v̂ + ε),
// where Πₜ = Π_{s≤t} μₛ is `u_product` after nadam_advance_u_product for this step.
void nadam_update(float* w, const float* g, float* m, float* v, int64_t n, double lr,
                  double beta_1, double beta_2, double epsilon, int64_t t, double u_product);
double nadam_advance_u_product(double u_product, double beta_1, int64_t t);

}  // namespace fastdnn
