// The fake device itself (tests/device/fake_device.h): operators give the CPU's results, autograd works
// across it, and a CPU tensor mixed into a device operator is recorded — the checks the device walk of
// every stage (device_walk_test.cpp) relies on.
#include "device/fake_device.h"

#include <gtest/gtest.h>

namespace {

TEST(FakeDevice, OperatorsGiveTheCpuResults) {
  fake_device::reset();
  const at::Tensor a = at::randn({4, 5}), b = at::randn({5, 3});
  const at::Tensor da = a.to(fake_device::device()), db = b.to(fake_device::device());
  EXPECT_EQ(da.device(), fake_device::device());
  const at::Tensor prod = at::matmul(da, db);
  EXPECT_EQ(prod.device(), fake_device::device());
  EXPECT_TRUE(at::equal(prod.cpu(), at::matmul(a, b)));
  // views alias the device memory, in-place writes reach it
  at::Tensor row = da.select(0, 1);
  row.mul_(2);
  EXPECT_TRUE(at::equal(da.cpu().select(0, 1), a.select(0, 1) * 2));
  // factories on the device, out= resizes
  EXPECT_TRUE(at::equal(at::arange(7, at::TensorOptions().device(fake_device::device())).cpu(), at::arange(7)));
  at::Tensor out = at::empty({0}, at::TensorOptions().device(fake_device::device()));
  at::cat_out(out, {da, da});
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{8, 5}));
  EXPECT_TRUE(at::equal(out.cpu(), at::cat({da.cpu(), da.cpu()})));
  EXPECT_EQ(da.sum().item<float>(), da.cpu().sum().item<float>());
  EXPECT_TRUE(fake_device::violations().empty());
  EXPECT_GT(fake_device::device_ops(), 5);
  EXPECT_GT(fake_device::host_reads(), 3);
}

TEST(FakeDevice, AutogradRunsOnTheDevice) {
  fake_device::reset();
  const at::Tensor w = at::randn({3, 3});
  at::Tensor dw = w.to(fake_device::device()).requires_grad_();
  at::Tensor cw = w.clone().requires_grad_();
  (dw.softmax(1).log() * dw).sum().backward();
  (cw.softmax(1).log() * cw).sum().backward();
  ASSERT_TRUE(dw.grad().defined());
  EXPECT_EQ(dw.grad().device(), fake_device::device());
  EXPECT_TRUE(at::allclose(dw.grad().cpu(), cw.grad()));
  EXPECT_TRUE(fake_device::violations().empty());
}

TEST(FakeDevice, ACpuTensorInADeviceOperatorIsRecorded) {
  fake_device::reset();
  const at::Tensor d = at::ones({2, 3}, at::TensorOptions().device(fake_device::device()));
  // element-wise operators: LibTorch's own check throws, as on CUDA
  EXPECT_THROW((void)(d + at::ones({2, 3})), c10::Error);
  // the others run (CPU kernels underneath) and are recorded
  const at::Tensor picked = d.index_select(0, at::tensor({int64_t{1}}));
  EXPECT_TRUE(at::equal(picked.cpu(), at::ones({1, 3})));
  const auto v = fake_device::violations();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].op, "aten::index_select");
  EXPECT_NE(v[0].arguments.find("Long[1] cpu"), std::string::npos) << v[0].arguments;
  // a CPU scalar (0-dim) is allowed in element-wise operators, as on CUDA, but not as an index
  fake_device::reset();
  (void)(d * at::scalar_tensor(3.0));
  (void)d.masked_fill(d > 0, at::scalar_tensor(2.0));
  EXPECT_TRUE(fake_device::violations().empty());
  (void)d.index_select(0, at::scalar_tensor(1, at::kLong));
  ASSERT_EQ(fake_device::violations().size(), 1u);
  EXPECT_EQ(fake_device::violations()[0].op, "aten::index_select");
}

TEST(FakeDevice, ACpuGeneratorForDeviceRandomsIsRecorded) {
  fake_device::reset();
  const at::Tensor probs = at::full({2, 4}, 0.25, at::TensorOptions().device(fake_device::device()));
  at::Generator gen = at::detail::createCPUGenerator(3);
  at::multinomial(probs, 1, false, gen);
  ASSERT_EQ(fake_device::violations().size(), 1u);
  EXPECT_EQ(fake_device::violations()[0].op, "aten::multinomial");
}

}  // namespace
