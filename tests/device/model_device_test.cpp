// The model on the fake device (fake_device.h): the same random initialisation, forward, log-probs and
// gradients as on the CPU, with no operator mixing devices.
#include <gtest/gtest.h>

#include <map>

#include <ATen/Parallel.h>

#include "device/fake_device.h"
#include "model/causal_lm.h"
#include "model/config.h"
#include "rl/run_util.h"

namespace r1 {
namespace {

TEST(ModelOnDevice, ForwardAndBackwardEqualTheCpu) {
  at::set_num_threads(1);
  const auto cfg = model::ModelConfig::from_json(rl::testing::tiny_config_json(), "tiny");
  auto cpu = model::CausalLM::init_random(cfg, 3, at::kFloat, at::Device(at::kCPU));
  fake_device::reset();
  auto dev = model::CausalLM::init_random(cfg, 3, at::kFloat, fake_device::device());
  cpu->set_requires_grad(true);
  dev->set_requires_grad(true);
  const at::Tensor ids = at::randint(0, 256, {3, 12}, at::TensorOptions().dtype(at::kLong));
  const auto out_cpu = cpu->forward(ids);
  const auto out_dev = dev->forward(ids.to(fake_device::device()));
  EXPECT_EQ(out_dev.hidden.device(), fake_device::device());
  EXPECT_TRUE(at::equal(out_cpu.hidden, out_dev.hidden.cpu()));
  const at::Tensor loss_cpu = cpu->logits(out_cpu.hidden).log_softmax(-1).select(-1, 5).sum();
  const at::Tensor loss_dev = dev->logits(out_dev.hidden).log_softmax(-1).select(-1, 5).sum();
  EXPECT_EQ(loss_cpu.item<float>(), loss_dev.item<float>());
  loss_cpu.backward();
  loss_dev.backward();
  std::map<std::string, at::Tensor> grads;
  for (const auto& [name, p] : cpu->named_parameters()) grads[name] = p.grad();
  for (const auto& [name, p] : dev->named_parameters()) {
    if (!grads[name].defined()) continue;
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_TRUE(at::equal(grads[name], p.grad().cpu()))
        << name << ": " << (grads[name] - p.grad().cpu()).abs().max().item<double>();
  }
  for (const auto& v : fake_device::violations()) ADD_FAILURE() << v.op << "(" << v.arguments << ")";
}

}  // namespace
}  // namespace r1
