// The fake device of fake_device.h: LibTorch's PrivateUse1 backend with host memory, native kernels for
// allocation, copy and resize, and a boxed fallback that runs every other operator's CPU kernel on
// zero-copy CPU views and checks CUDA's same-device rule first.
//
// Storage: a fake tensor's storage is malloc'd memory with a DataPtr naming the fake device. The fallback
// gives a CPU kernel one CPU storage per fake storage (same memory, not owned), so views the kernel makes
// alias the right memory; results whose storage is one of those CPU views are wrapped back onto the fake
// storage (aliasing kept), new results are wrapped without a copy (the fake storage keeps the CPU one
// alive). A kernel that resizes an out= argument gets a resizable CPU storage; the fake argument is then
// resized and filled from it.
#include "device/fake_device.h"

#include <ATen/EmptyTensor.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/library.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace fake_device {
namespace {

const at::Device kDevice(c10::DeviceType::PrivateUse1, 0);
const c10::DispatchKeySet kKeys(c10::DispatchKey::PrivateUse1);

// ---- recording ---------------------------------------------------------------------------------------

std::mutex g_mutex;  // the autograd engine runs a device's backward on a thread of its own
std::vector<Violation> g_violations;
std::atomic<int64_t> g_host_reads{0};
std::atomic<int64_t> g_device_ops{0};

bool on_fake(const at::Tensor& t) { return t.defined() && t.device().type() == c10::DeviceType::PrivateUse1; }

// ---- memory ------------------------------------------------------------------------------------------

void free_host(void* p) { std::free(p); }

// LibTorch 2.3 made allocate() non-const and added copy_data(); 1.13 has the const allocate() only.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define R1_ALLOCATE_CONST
#define R1_ALLOCATOR_COPY_DATA \
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#else
#define R1_ALLOCATE_CONST const
#define R1_ALLOCATOR_COPY_DATA
#endif

struct HostAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t n) R1_ALLOCATE_CONST override {
    void* p = std::aligned_alloc(64, (std::max<size_t>(n, 1) + 63) / 64 * 64);  // as the CPU allocator
    TORCH_CHECK(p != nullptr, "fake device: out of memory allocating ", n, " bytes");
    return {p, p, &free_host, kDevice};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &free_host; }
  R1_ALLOCATOR_COPY_DATA
};
HostAllocator g_allocator;

// One device, one stream, nothing to switch.
struct GuardImpl final : c10::impl::DeviceGuardImplInterface {
  c10::DeviceType type() const override { return c10::DeviceType::PrivateUse1; }
  c10::Device exchangeDevice(c10::Device) const override { return kDevice; }
  c10::Device getDevice() const override { return kDevice; }
  void setDevice(c10::Device) const override {}
  void uncheckedSetDevice(c10::Device) const noexcept override {}
  c10::Stream getStream(c10::Device d) const noexcept override { return c10::Stream(c10::Stream::DEFAULT, d); }
  c10::Stream exchangeStream(c10::Stream s) const noexcept override { return s; }
  c10::DeviceIndex deviceCount() const noexcept override { return 1; }
};
C10_REGISTER_GUARD_IMPL(PrivateUse1, GuardImpl);

// A fake tensor on `storage` with r's sizes, strides and offset (r is a CPU tensor). A view of a fake tensor
// (`base` defined) is made as LibTorch makes views: with the base's dispatch keys, so autograd and inference
// mode treat it as they treat the base.
at::Tensor fake_on(c10::Storage storage, const at::Tensor& r, const at::Tensor& base) {
  at::Tensor out = base.defined()
      ? at::detail::make_tensor<c10::TensorImpl>(c10::TensorImpl::VIEW, std::move(storage), base.key_set(), r.dtype())
      : at::detail::make_tensor<c10::TensorImpl>(std::move(storage), kKeys, r.dtype());
  out.unsafeGetTensorImpl()->set_sizes_and_strides(r.sizes(), r.strides(), r.storage_offset());
  return out;
}

// A fake storage owning nothing, keeping the CPU storage `host` (and so its memory) alive.
c10::Storage adopt(const c10::Storage& host) {
  auto* keep = new c10::Storage(host);
  c10::DataPtr ptr(host.data_ptr().get(), keep, [](void* k) { delete static_cast<c10::Storage*>(k); }, kDevice);
  return c10::Storage(c10::Storage::use_byte_size_t(), host.nbytes(), std::move(ptr), &g_allocator, true);
}

// The CPU storages handed to one kernel call, both ways.
struct StorageMap {
  std::unordered_map<c10::StorageImpl*, c10::Storage> host_of;  // fake storage → its CPU view
  std::unordered_map<c10::StorageImpl*, at::Tensor> fake_of;    // and back: a fake tensor on that storage

  // A CPU tensor on the same memory as fake tensor t.
  at::Tensor host_view(const at::Tensor& t) {
    c10::StorageImpl* key = t.storage().unsafeGetStorageImpl();
    auto it = host_of.find(key);
    if (it == host_of.end()) {
      const c10::Storage& s = t.storage();
      c10::Storage host(c10::Storage::use_byte_size_t(), s.nbytes(), c10::DataPtr(s.data_ptr().get(), at::kCPU),
                        c10::GetCPUAllocator(), /*resizable=*/true);
      fake_of.emplace(host.unsafeGetStorageImpl(), t);
      it = host_of.emplace(key, std::move(host)).first;
    }
    const at::Tensor empty = at::empty({0}, at::TensorOptions().dtype(t.dtype()));
    return empty.set_(it->second, t.storage_offset(), t.sizes(), t.strides());
  }

  // The fake tensor for a kernel's CPU result.
  at::Tensor to_fake(const at::Tensor& r) {
    if (!r.defined() || on_fake(r) || r.device().type() != at::kCPU) return r;
    auto it = fake_of.find(r.storage().unsafeGetStorageImpl());
    if (it != fake_of.end()) return fake_on(it->second.storage(), r, it->second);
    return fake_on(adopt(r.storage()), r, at::Tensor());
  }
};

// A CPU kernel's view of fake tensor t for reading: a CPU tensor as is.
at::Tensor readable(StorageMap& m, const at::Tensor& t) { return on_fake(t) ? m.host_view(t) : t; }

// ---- native kernels ----------------------------------------------------------------------------------

// Concrete sizes of a kernel's SymInt[] argument (this backend never sees symbolic ones).
std::vector<int64_t> ints(c10::SymIntArrayRef sizes) {
  std::vector<int64_t> out;
  for (const c10::SymInt& s : sizes) out.push_back(s.expect_int());
  return out;
}

at::Tensor empty_memory_format(c10::SymIntArrayRef size, c10::optional<at::ScalarType> dtype,
                               c10::optional<at::Layout>, c10::optional<at::Device>, c10::optional<bool>,
                               c10::optional<at::MemoryFormat> memory_format) {
  return at::Tensor(at::detail::empty_generic(ints(size), &g_allocator, kKeys,
                                              c10::dtype_or_default(dtype), memory_format));
}

at::Tensor empty_strided(c10::SymIntArrayRef size, c10::SymIntArrayRef stride, c10::optional<at::ScalarType> dtype,
                         c10::optional<at::Layout>, c10::optional<at::Device>, c10::optional<bool>) {
  return at::Tensor(at::detail::empty_strided_generic(ints(size), ints(stride),
                                                      &g_allocator, kKeys, c10::dtype_or_default(dtype)));
}

// copy_ between the fake device and the CPU (or within the fake device) lands here.
at::Tensor copy_from(const at::Tensor& self, const at::Tensor& dst, bool /*non_blocking*/) {
  StorageMap m;
  if (on_fake(self) && !on_fake(dst)) ++g_host_reads;
  readable(m, dst).copy_(readable(m, self));
  return dst;
}

// Grows the storage when needed (keeping its bytes), then takes the new sizes, contiguous.
void resize_to(const at::Tensor& self, at::IntArrayRef size) {
  const size_t need = at::detail::computeStorageNbytesContiguous(size, self.dtype().itemsize(), self.storage_offset());
  c10::StorageImpl* s = self.storage().unsafeGetStorageImpl();
  if (need > s->nbytes()) {
    c10::DataPtr grown = g_allocator.allocate(need);
    if (s->nbytes() > 0) std::memcpy(grown.get(), s->data(), s->nbytes());
    s->set_data_ptr_noswap(std::move(grown));
    s->set_nbytes(need);
  }
  self.unsafeGetTensorImpl()->set_sizes_contiguous(size);
}

const at::Tensor& resize(const at::Tensor& self, c10::SymIntArrayRef size, c10::optional<at::MemoryFormat>) {
  resize_to(self, ints(size));
  return self;
}

// ---- the fallback ------------------------------------------------------------------------------------

// "Float[2, 3] privateuseone:0" for a tensor argument.
std::string describe(const at::Tensor& t) {
  std::ostringstream o;
  o << t.scalar_type() << t.sizes() << " " << t.device();
  return o.str();
}

// The tensors among a call's arguments, lists flattened.
std::vector<at::Tensor> tensors_of(c10::ArrayRef<c10::IValue> args) {
  std::vector<at::Tensor> out;
  for (const c10::IValue& v : args) {
    if (v.isTensor()) {
      out.push_back(v.toTensor());
    } else if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorList()) out.push_back(t);
    } else if (v.isOptionalTensorList()) {
      for (const c10::optional<at::Tensor> t : v.toOptionalTensorList())
        if (t.has_value()) out.push_back(*t);
    }
  }
  return out;
}

// Whether CUDA would take a CPU scalar (0-dim tensor) among this operator's device tensors: element-wise
// operators do (TensorIterator; they reach the fallback through their out= overloads) and masked_fill / where
// take a 0-dim value; indexing, gathering and the like do not.
bool takes_cpu_scalars(const c10::OperatorHandle& op) {
  const c10::FunctionSchema& s = op.schema();
  const std::string& o = s.overload_name();  // "out", "out_mode", "Tensor_out", ...
  const bool out = o == "out" || o.rfind("out_", 0) == 0 || (o.size() > 4 && o.compare(o.size() - 4, 4, "_out") == 0);
  return out || s.name() == "aten::masked_fill_" || s.name() == "aten::masked_fill" || s.name() == "aten::where";
}

// CUDA's rule: tensors of one call share the device, except CPU scalars (0-dim) where the operator takes them;
// a CPU generator does not drive a device's random numbers. A device argument (a factory's) counts as a tensor
// on it.
void check_devices(const c10::OperatorHandle& op, c10::ArrayRef<c10::IValue> args) {
  bool any_fake = false, mixed = false;
  const bool scalars_ok = takes_cpu_scalars(op);
  for (const at::Tensor& t : tensors_of(args)) {
    if (!t.defined()) continue;
    any_fake |= on_fake(t);
    mixed |= !on_fake(t) && (t.dim() > 0 || !scalars_ok);
  }
  for (const c10::IValue& v : args) {
    if (v.isDevice()) any_fake |= v.toDevice().type() == kDevice.type();
    if (v.isGenerator() && v.toGenerator().defined()) mixed |= v.toGenerator().device().type() != kDevice.type();
  }
  if (!any_fake || !mixed) return;
  std::ostringstream o;
  const char* sep = "";
  for (const at::Tensor& t : tensors_of(args)) {
    if (!t.defined()) continue;
    o << sep << describe(t);
    sep = ", ";
  }
  for (const c10::IValue& v : args)
    if (v.isGenerator() && v.toGenerator().defined()) o << sep << "generator " << v.toGenerator().device();
  std::lock_guard<std::mutex> lock(g_mutex);
  g_violations.push_back({op.schema().name(), o.str()});
}

// Hands CPU views of the fake arguments to the CPU kernel, then wraps its results.
void fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const c10::FunctionSchema& schema = op.schema();
  const size_t n_args = schema.arguments().size(), first = stack->size() - n_args;
  check_devices(op, c10::ArrayRef<c10::IValue>(*stack).slice(first, n_args));
  ++g_device_ops;
  if (schema.name() == "aten::_local_scalar_dense") ++g_host_reads;

  StorageMap m;
  std::vector<std::pair<at::Tensor, at::Tensor>> written;  // fake argument the kernel writes, its CPU view
  for (size_t i = 0; i < n_args; ++i) {
    c10::IValue& v = (*stack)[first + i];
    const c10::AliasInfo* alias = schema.arguments()[i].alias_info();
    if (v.isTensor() && on_fake(v.toTensor())) {
      at::Tensor t = v.toTensor(), h = m.host_view(t);
      if (alias != nullptr && alias->isWrite()) written.emplace_back(t, h);
      v = h;
    } else if (v.isTensorList()) {
      c10::List<at::Tensor> list = v.toTensorList();
      for (size_t j = 0; j < list.size(); ++j) {
        if (!on_fake(list.get(j))) continue;
        const at::Tensor t = list.get(j), h = m.host_view(t);
        if (alias != nullptr && alias->isWrite()) written.emplace_back(t, h);  // Tensor(a!)[]: foreach_, out lists
        list.set(j, h);
      }
      v = list;
    } else if (v.isOptionalTensorList()) {
      c10::List<c10::optional<at::Tensor>> list = v.toOptionalTensorList();
      for (size_t j = 0; j < list.size(); ++j) {
        const c10::optional<at::Tensor> t = list.get(j);
        if (t.has_value() && on_fake(*t)) list.set(j, m.host_view(*t));
      }
      v = list;
    } else if (v.isDevice() && v.toDevice().type() == kDevice.type()) {
      v = c10::IValue(at::Device(at::kCPU));
    }
  }
  op.callBoxed(stack);

  // A written argument the kernel resized onto new memory: resize the fake one and copy the result in.
  for (auto& [fake, host] : written) {
    const bool same = host.data_ptr() == fake.data_ptr() && host.sizes() == fake.sizes();
    if (same && host.strides() == fake.strides()) continue;
    resize_to(fake, host.sizes());
    StorageMap fresh;
    fresh.host_view(fake).copy_(host);
  }
  const size_t n_returns = schema.returns().size();
  for (size_t i = 0; i < n_returns; ++i) {
    c10::IValue& v = (*stack)[stack->size() - n_returns + i];
    const c10::AliasInfo* alias = schema.returns()[i].alias_info();
    if (v.isTensor() && alias != nullptr && alias->isWrite()) {  // returns its (written) argument
      for (auto& [fake, host] : written)
        if (host.is_same(v.toTensor())) v = fake;
    } else if (v.isTensor()) {
      v = m.to_fake(v.toTensor());
    } else if (v.isTensorList()) {
      c10::List<at::Tensor> list = v.toTensorList();
      for (size_t j = 0; j < list.size(); ++j) list.set(j, m.to_fake(list.get(j)));
      v = list;
    }
  }
}

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("empty.memory_format", TORCH_FN(empty_memory_format));
  m.impl("empty_strided", TORCH_FN(empty_strided));
  m.impl("_copy_from", TORCH_FN(copy_from));
  m.impl("resize_", TORCH_FN(resize));
}

TORCH_LIBRARY_IMPL(_, PrivateUse1, m) { m.fallback(torch::CppFunction::makeFromBoxedFunction<&fallback>()); }

// An operator with both a CPU kernel and a CompositeImplicitAutograd one (silu_backward, mish_backward, ...)
// would run decomposed on a backend without its own kernel — other rounding than the CPU (and CUDA) kernel.
// Such operators get the fallback as their kernel, so they run the CPU kernel. LibTorch's operators are
// registered when its library loads, before this binary's static objects are made.
struct RouteCompositesToTheCpuKernel {
  RouteCompositesToTheCpuKernel() {
    static torch::Library lib(torch::Library::IMPL, "aten", c10::DispatchKey::PrivateUse1, __FILE__, __LINE__);
    c10::Dispatcher& dispatcher = c10::Dispatcher::singleton();
    for (const c10::OperatorName& name : dispatcher.getAllOpNames()) {
      const auto op = dispatcher.findOp(name);
      if (!op || name.name.rfind("aten::", 0) != 0 || !op->hasKernelForDispatchKey(c10::DispatchKey::CPU) ||
          !op->hasKernelForDispatchKey(c10::DispatchKey::CompositeImplicitAutograd) ||
          op->hasKernelForDispatchKey(c10::DispatchKey::PrivateUse1)) {
        continue;
      }
      const std::string plain = name.name.substr(6) + (name.overload_name.empty() ? "" : "." + name.overload_name);
      lib.impl(plain.c_str(), torch::CppFunction::makeFromBoxedFunction<&fallback>());
    }
  }
} g_route_composites;

}  // namespace

at::Device device() { return kDevice; }

std::vector<Violation> violations() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_violations;
}

int64_t host_reads() { return g_host_reads.load(); }
int64_t device_ops() { return g_device_ops.load(); }

void reset() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_violations.clear();
  g_host_reads = 0;
  g_device_ops = 0;
}

}  // namespace fake_device
