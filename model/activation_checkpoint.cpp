// Activation checkpointing of decoder layers (CausalLM::set_activation_checkpointing): a layer's forward runs
// without recording its graph — only its input hidden state [B, T, H] is kept — and the backward pass runs the
// layer again with grad to get its gradients. What a training step keeps between forward and backward drops
// from every intermediate of every layer (attention scores [B, heads, T, T], MLP / expert activations) to one
// [B, T, H] per layer, for one extra forward of each layer; long chains of thought in RL run out of memory on
// those intermediates first.
//
// The recomputation is the same computation on the same inputs and weights (no dropout, routing is a pure
// function of them), so gradients equal the plain backward's (tests/model/activation_checkpoint_test.cpp).
// The layer's side outputs come from the first forward: MoE expert loads (counted once) and the sequence-wise
// balance loss, which is a second, differentiable output. The re-run backward accumulates the layer weights'
// gradients into their .grad (a backward inside the backward, as PyTorch's reentrant checkpoint does) and
// returns the gradient of the layer's input.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "model/causal_lm.h"

namespace r1::model {
namespace {

// Optional tensors (the MoE token mask, packed sequence ids) cross the autograd function as empty tensors:
// it cannot take undefined ones.
at::Tensor or_empty(const at::Tensor& t) { return t.defined() ? t : at::empty({0}, at::kLong); }
at::Tensor or_undefined(const at::Tensor& t) { return t.numel() == 0 ? at::Tensor() : t; }

}  // namespace

struct CheckpointedLayer : torch::autograd::Function<CheckpointedLayer> {
  // Returns {h_out [B, T, H], balance loss (a scalar, zero without balance), expert load [E] (empty for a dense
  // layer; not differentiable)}.
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& h,
                                                const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& mask,
                                                const at::Tensor& valid, const at::Tensor& sequence_ids,
                                                const CausalLM* model, int64_t layer, bool balance, int64_t mode) {
    MoeStats stats;
    AttentionInputs in;
    in.cos = cos;
    in.sin = sin;
    in.mask = mask;
    const at::Tensor out =
        model->layer_forward(model->layers_[static_cast<size_t>(layer)], h, in, static_cast<MlaMode>(mode),
                             or_undefined(valid), &stats, balance, or_undefined(sequence_ids));
    ctx->save_for_backward({h, cos, sin, mask, valid, sequence_ids});
    ctx->saved_data["model"] = reinterpret_cast<int64_t>(model);
    ctx->saved_data["layer"] = layer;
    ctx->saved_data["balance"] = balance;
    ctx->saved_data["mode"] = mode;
    at::Tensor balance_loss =
        stats.balance_loss.defined() ? stats.balance_loss : at::zeros({}, h.options().dtype(at::kFloat));
    at::Tensor load = stats.load.defined() ? stats.load : at::zeros({0}, h.options().dtype(at::kLong));
    ctx->mark_non_differentiable({load});
    return {out, balance_loss, load};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto* model = reinterpret_cast<const CausalLM*>(ctx->saved_data["model"].toInt());
    const bool balance = ctx->saved_data["balance"].toBool();
    at::AutoGradMode grad_mode(true);
    const at::Tensor x = saved[0].detach().requires_grad_(true);
    AttentionInputs in;
    in.cos = saved[1];
    in.sin = saved[2];
    in.mask = saved[3];
    MoeStats stats;
    const at::Tensor out =
        model->layer_forward(model->layers_[static_cast<size_t>(ctx->saved_data["layer"].toInt())], x, in,
                             static_cast<MlaMode>(ctx->saved_data["mode"].toInt()), or_undefined(saved[4]), &stats,
                             balance, or_undefined(saved[5]));
    std::vector<at::Tensor> outputs = {out}, output_grads = {grads[0]};
    if (balance && stats.balance_loss.defined() && grads[1].defined()) {
      outputs.push_back(stats.balance_loss);
      output_grads.push_back(grads[1]);
    }
    torch::autograd::backward(outputs, output_grads);
    // One gradient per forward argument: the hidden state's, none for the rest.
    return {x.grad(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor CausalLM::checkpointed_layer_forward(size_t layer, const at::Tensor& h, const AttentionInputs& in,
                                                const at::Tensor& valid, MoeStats* stats, bool balance,
                                                const at::Tensor& sequence_ids) const {
  const auto outs = CheckpointedLayer::apply(h, in.cos, in.sin, in.mask, or_empty(valid), or_empty(sequence_ids), this,
                                             static_cast<int64_t>(layer), balance,
                                             static_cast<int64_t>(forward_mla_mode_));
  if (layers_[layer].is_moe) {
    stats->load = outs[2];
    if (balance) stats->balance_loss = outs[1];
  }
  return outs[0];
}

}  // namespace r1::model
