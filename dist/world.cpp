// See world.h.
#include "dist/world.h"

#ifdef R1_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "common/error.h"

namespace r1::dist {
namespace {

// The integer value of environment variable `name`, or `fallback` when it is unset or empty.
long env_int(const char* name, long fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  R1_CHECK(errno == 0 && end != text && *end == '\0', "environment variable ", name, "='", text,
           "' is not a whole number");
  return v;
}

std::string env_string(const char* name, const std::string& fallback) {
  const char* text = std::getenv(name);
  return text == nullptr || *text == '\0' ? fallback : std::string(text);
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

}  // namespace

LaunchEnv launch_env_from_environment() {
  LaunchEnv e;
  const long world = env_int("WORLD_SIZE", 1);
  R1_CHECK(world >= 1 && world <= 65536, "environment variable WORLD_SIZE=", world, " must be between 1 and 65536");
  e.world_size = static_cast<int>(world);
  if (e.world_size == 1) return e;
  R1_CHECK(std::getenv("RANK") != nullptr, "environment variable RANK is not set, but WORLD_SIZE=", world,
           " says this is one of several processes (torchrun and r1's launcher, dist/launcher.h, set both)");
  const long rank = env_int("RANK", -1);
  R1_CHECK(rank >= 0 && rank < world, "environment variable RANK=", rank, " must be in [0, WORLD_SIZE=", world, ")");
  e.rank = static_cast<int>(rank);
  const long local = env_int("LOCAL_RANK", rank);
  R1_CHECK(local >= 0 && local < world, "environment variable LOCAL_RANK=", local, " must be in [0, WORLD_SIZE=",
           world, ")");
  e.local_rank = static_cast<int>(local);
  e.master_addr = env_string("MASTER_ADDR", e.master_addr);
  R1_CHECK(std::getenv("MASTER_PORT") != nullptr, "environment variable MASTER_PORT is not set (the port of rank 0's "
           "store; torchrun sets it, r1's launcher picks a free one)");
  const long port = env_int("MASTER_PORT", 0);
  R1_CHECK(port >= 1 && port <= 65535, "environment variable MASTER_PORT=", port, " must be between 1 and 65535");
  e.master_port = static_cast<int>(port);
  return e;
}

#ifdef R1_HAVE_GLOO
struct World::Group {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  std::string prefix;  // of every key r1 puts in the store
};
#else
struct World::Group {};
#endif

World::World() = default;
World::~World() = default;
World::World(World&&) noexcept = default;
World& World::operator=(World&&) noexcept = default;

#ifndef R1_HAVE_GLOO
World World::join(const LaunchEnv& env, std::chrono::milliseconds timeout) {
  R1_CHECK(env.world_size == 1, "rank ", env.rank, " of ", env.world_size, ": this r1 was built without Gloo's "
           "headers, so it runs single processes only; install libgloo-dev (Debian) and build again");
  World w;
  w.env_ = env;
  w.timeout_ = timeout;
  return w;
}
void World::all_reduce_sum(std::vector<at::Tensor>&, int64_t) const {}
World::PendingSum World::start_sum(const at::Tensor&) const { return PendingSum(); }
double World::sum(double x) const { return x; }
double World::max(double x) const { return x; }
void World::broadcast(std::vector<at::Tensor>&, int) const {}
void World::barrier() const {}
std::vector<std::string> World::all_gather_bytes(const std::string& mine) const { return {mine}; }
void World::publish(const std::string&, const std::string&) const {}
std::string World::await(const std::string& key) const {
  fail("World::await('", key, "'): a single process has nobody to wait for");
}
#else
World World::join(const LaunchEnv& env, std::chrono::milliseconds timeout) {
  World w;
  w.env_ = env;
  w.timeout_ = timeout;
  if (env.world_size == 1) return w;
  const std::string where = str_cat("rank ", env.rank, " of ", env.world_size, ": joining the job at ", env.master_addr,
                                    ":", env.master_port);
  auto group = std::make_unique<Group>();
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    // Under torchrun the agent already hosts the store at MASTER_ADDR:MASTER_PORT and says so; rank 0 then
    // connects to it like every other rank.
    so.isServer = env.rank == 0 && env_string("TORCHELASTIC_USE_AGENT_STORE", "") != "True";
    so.numWorkers = static_cast<std::size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    group->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    const std::string ifname = env_string("GLOO_SOCKET_IFNAME", "");
    if (!ifname.empty()) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (is_loopback(env.master_addr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 1;
    // r1's keys apart from whatever else the store holds (a torchrun agent's own, and those of an earlier attempt
    // when the agent restarted the workers: its store outlives them).
    group->prefix = str_cat("r1/attempt_", env_string("TORCHELASTIC_RESTART_COUNT", "0"), "/");
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>(group->prefix + "gloo", group->store);
    group->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    throw Error(str_cat(where, " failed (", env.world_size, " ranks expected within ", timeout.count(),
                        " ms): ", e.what()));
  }
  w.group_ = std::move(group);
  return w;
}

void World::all_reduce_sum(std::vector<at::Tensor>& tensors, int64_t bucket_bytes) const {
  if (!group_ || tensors.empty()) return;
  at::NoGradGuard no_grad;  // gradients are often leaves that require grad
  size_t i = 0;
  while (i < tensors.size()) {
    // One bucket: tensors [i, j) of one dtype whose bytes fit bucket_bytes (at least one tensor).
    size_t j = i;
    int64_t bytes = 0;
    while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
           tensors[j].device() == tensors[i].device() &&
           (j == i || bytes + static_cast<int64_t>(tensors[j].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(tensors[j].nbytes());
      ++j;
    }
    if (j == i + 1 && tensors[i].is_contiguous() && tensors[i].device().is_cpu()) {  // a lone tensor travels as it is
      std::vector<at::Tensor> one = {tensors[i]};
      group_->gloo->allreduce(one)->wait(timeout_);
      i = j;
      continue;
    }
    std::vector<at::Tensor> flat_parts;
    for (size_t k = i; k < j; ++k) flat_parts.push_back(tensors[k].reshape({-1}));
    std::vector<at::Tensor> flat = {at::cat(flat_parts).to(at::kCPU)};  // another device's: through host memory
    group_->gloo->allreduce(flat)->wait(timeout_);
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = tensors[k].numel();
      tensors[k].copy_(flat[0].slice(0, offset, offset + n).view(tensors[k].sizes()));
      offset += n;
    }
    i = j;
  }
}

World::PendingSum World::start_sum(const at::Tensor& flat) const {
  if (!group_) return PendingSum();
  R1_CHECK(flat.is_contiguous(), "start_sum: expected a contiguous tensor");
  at::NoGradGuard no_grad;
  // Another device's tensor travels through a host copy, written back by wait().
  const at::Tensor host = flat.device().is_cpu() ? flat : flat.to(at::kCPU);
  std::vector<at::Tensor> one = {host};
  auto work = group_->gloo->allreduce(one);
  const std::chrono::milliseconds timeout = timeout_;
  return PendingSum([work, timeout, flat, host] {
    work->wait(timeout);
    if (!host.is_same(flat)) {
      at::NoGradGuard no_grad;
      flat.copy_(host);
    }
  });
}

double World::sum(double x) const {
  if (!group_) return x;
  std::vector<at::Tensor> t = {at::full({1}, x, at::kDouble)};
  group_->gloo->allreduce(t)->wait(timeout_);
  return t[0].item<double>();
}

void World::broadcast(std::vector<at::Tensor>& tensors, int root) const {
  if (!group_) return;
  at::NoGradGuard no_grad;
  for (auto& t : tensors) {
    // Gloo reads data_ptr() and numel() of CPU tensors: a view, or another device's tensor, travels as a
    // contiguous host copy and is written back. Gloo has no bf16 (LibTorch 1.13): its bytes travel as uint8.
    const at::Tensor host = t.is_contiguous() && t.device().is_cpu() ? t : t.contiguous().to(at::kCPU);
    std::vector<at::Tensor> one = {host.scalar_type() == at::kBFloat16 ? host.reshape({-1}).view(at::kByte) : host};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    group_->gloo->broadcast(one, o)->wait(timeout_);
    if (!host.is_same(t)) t.copy_(host);
  }
}

void World::barrier() const {
  if (!group_) return;
  group_->gloo->barrier()->wait(timeout_);
}


double World::max(double x) const {
  if (!group_) return x;
  std::vector<at::Tensor> t = {at::full({1}, x, at::kDouble)};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::MAX;
  group_->gloo->allreduce(t, o)->wait(timeout_);
  return t[0].item<double>();
}

std::vector<std::string> World::all_gather_bytes(const std::string& mine) const {
  if (!group_) return {mine};
  // Lengths first, then every rank's bytes padded to the longest, gathered in one collective.
  std::vector<at::Tensor> lengths = {at::zeros({size()}, at::kLong)};
  lengths[0][rank()] = static_cast<int64_t>(mine.size());
  group_->gloo->allreduce(lengths)->wait(timeout_);
  const int64_t longest = std::max<int64_t>(1, lengths[0].max().item<int64_t>());
  std::vector<at::Tensor> input = {at::zeros({longest}, at::kByte)};
  std::copy(mine.begin(), mine.end(), reinterpret_cast<char*>(input[0].data_ptr<uint8_t>()));
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < size(); ++r) output[0].push_back(at::empty({longest}, at::kByte));
  group_->gloo->allgather(output, input)->wait(timeout_);
  std::vector<std::string> out;
  for (int r = 0; r < size(); ++r) {
    const char* data = reinterpret_cast<const char*>(output[0][r].data_ptr<uint8_t>());
    out.emplace_back(data, data + lengths[0][r].item<int64_t>());
  }
  return out;
}

void World::publish(const std::string& key, const std::string& value) const {
  if (!group_) return;
  group_->store->set(group_->prefix + key, std::vector<uint8_t>(value.begin(), value.end()));
}

std::string World::await(const std::string& key) const {
  R1_CHECK(group_ != nullptr, "World::await('", key, "'): a single process has nobody to wait for");
  const std::string k = group_->prefix + key;
  try {
    while (!group_->store->check({k})) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::vector<uint8_t> v = group_->store->get(k);
    return std::string(v.begin(), v.end());
  } catch (const std::exception& e) {
    throw Error(str_cat("rank ", rank(), " of ", size(), ": waiting for '", key, "' from rank 0 failed (rank 0 has "
                        "probably ended; its error is above): ", e.what()));
  }
}
#endif  // R1_HAVE_GLOO

}  // namespace r1::dist
