// Tests for model/safetensors: bit-exact round trips for every dtype, byte-identical re-saving of files
// written by HF (the golden fixtures), the header validation rules one by one (each malformed file must be
// an r1::Error naming the file and the tensor), sharded checkpoints with an index, and FP8 dequantisation.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "error_of.h"
#include "scratch_dir.h"
#include "common/error.h"
#include "common/fs.h"
#include "kernels/fp8_quant.h"
#include "model/safetensors.h"

namespace r1::model {
namespace {

using r1::testing::error_of;

namespace fs = std::filesystem;
using Named = std::vector<std::pair<std::string, at::Tensor>>;

// Every test directory lives under one per-process root, removed when the suite ends.
std::string test_root() { return r1::testing::scratch_root("r1_st_test_"); }
[[maybe_unused]] ::testing::Environment* const kRemoveTestRoot =
    ::testing::AddGlobalTestEnvironment(new r1::testing::RemoveScratchRoot(test_root()));
std::string fresh_dir(const std::string& tag) { return r1::testing::fresh_dir(test_root(), tag); }

std::string read_bytes(const std::string& path) { return read_file(path); }

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A safetensors file from a header text (not padded) and a data buffer.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

// Expects constructing SafetensorsFile(path) to throw r1::Error whose message contains every needle.
void expect_open_error(const std::string& path, const std::vector<std::string>& needles) {
  try {
    SafetensorsFile f(path);
    FAIL() << "no error for " << path;
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& needle : needles) EXPECT_NE(msg.find(needle), std::string::npos) << msg << "\nmissing: " << needle;
  }
}


bool bit_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor ac = a.contiguous(), bc = b.contiguous();
  return std::memcmp(ac.data_ptr(), bc.data_ptr(), ac.nbytes()) == 0;
}

// Random tensors of every supported dtype, with awkward values (NaN payloads, -0, inf, extremes).
Named every_dtype_tensors() {
  at::manual_seed(7);
  at::Tensor f32 = at::randn({3, 5});
  f32.view(-1)[0] = -0.0f;
  f32.view(-1)[1] = std::numeric_limits<float>::infinity();
  int32_t payload_nan = 0x7FC01234;  // a NaN with a payload: must survive bit-exactly
  std::memcpy(static_cast<float*>(f32.data_ptr()) + 2, &payload_nan, 4);
  return {
      {"f32", f32},
      {"f64", at::randn({4}, at::kDouble)},
      {"f16", at::randn({2, 3}).to(at::kHalf)},
      {"bf16", at::randn({7}).to(at::kBFloat16)},
      {"i64", at::tensor({std::numeric_limits<int64_t>::min(), int64_t(-1), std::numeric_limits<int64_t>::max()})},
      {"i32", at::randint(-1000, 1000, {2, 2}, at::kInt)},
      {"i16", at::randint(-30000, 30000, {5}, at::kShort)},
      {"i8", at::randint(-128, 128, {9}, at::kChar)},
      {"u8", at::randint(0, 256, {3, 1, 2}, at::kByte)},
      {"bool", at::randint(0, 2, {6}, at::kByte).to(at::kBool)},
      {"fp8", at::arange(0, 256, at::kInt).to(at::kByte).view({16, 16})},
      {"scalar", at::scalar_tensor(3.5, at::kFloat)},
      {"empty", at::empty({0, 4}, at::kFloat)},
  };
}

std::string fixture_model_dir(const std::string& name) {
  for (const std::string& base : {std::string(R1_TEST_DATA) + "/models/", std::string(R1_SHARED_DIR) + "/fixtures/models/"}) {
    if (fs::exists(base + name + "/model.safetensors")) return base + name;
  }
  return "";
}

TEST(Safetensors, RoundTripIsBitExactForEveryDtype) {
  const std::string dir = fresh_dir("roundtrip");
  const std::string path = dir + "/all.safetensors";
  const Named tensors = every_dtype_tensors();
  save_safetensors(path, tensors, {{"format", "pt"}, {"note", "quote \" and \\ and \n"}}, {"fp8"});
  SafetensorsFile file(path);
  EXPECT_EQ(file.metadata().at("note"), "quote \" and \\ and \n");
  EXPECT_EQ(file.tensors().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    const at::Tensor back = file.load(name);
    EXPECT_TRUE(bit_equal(back, t));
  }
  EXPECT_EQ(file.find("fp8")->dtype, "F8_E4M3");
  EXPECT_EQ(file.find("u8")->dtype, "U8");
  EXPECT_EQ(file.find("bool")->dtype, "BOOL");
  // No temporary file is left next to the result.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(Safetensors, WriterLayoutMatchesReference) {
  const std::string path = fresh_dir("layout") + "/x.safetensors";
  save_safetensors(path, every_dtype_tensors(), {}, {"fp8"});
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.find("__metadata__"), std::string::npos);  // empty metadata is omitted
  SafetensorsFile file(path);
  // Header order is data order: dtypes from 8-byte down to BOOL (the reference's), names within a dtype.
  const std::vector<std::string> expected = {"i64", "f64", "empty", "f32", "scalar", "i32", "bf16",
                                             "f16", "i16", "fp8",   "i8",  "u8",     "bool"};
  std::vector<std::string> got;
  uint64_t expected_begin = 0;
  for (const auto& t : file.tensors()) {
    got.push_back(t.name);
    EXPECT_EQ(t.begin, expected_begin) << t.name;  // packed
    EXPECT_EQ(t.begin % dtype_size(t.dtype), 0u) << t.name << " is misaligned";
    expected_begin = t.end;
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(bytes.size(), 8 + n + expected_begin);
  EXPECT_NE(header.find(R"("scalar":{"dtype":"F32","shape":[],"data_offsets":[)"), std::string::npos) << header;
}

TEST(Safetensors, ResavingHfFilesIsByteIdentical) {
  const std::string model_dir = fixture_model_dir("qwen2_tiny");
  if (model_dir.empty()) GTEST_SKIP() << "golden fixtures not found";
  const std::string out_dir = fresh_dir("resave");
  for (const char* name : {"model.safetensors", "reference.safetensors"}) {
    SCOPED_TRACE(name);
    SafetensorsFile original(model_dir + "/" + name);
    Named tensors;
    for (const auto& t : original.tensors()) tensors.emplace_back(t.name, original.load(t.name));
    save_safetensors(out_dir + "/" + name, tensors, original.metadata());
    EXPECT_TRUE(read_bytes(out_dir + "/" + name) == read_bytes(model_dir + "/" + name));
  }
}

TEST(Safetensors, UnorderedOffsetsAndGapsAreAccepted) {
  const std::string path = fresh_dir("unordered") + "/u.safetensors";
  std::string data(24, '\0');
  const float a[2] = {1.5f, -2.0f};
  const int32_t b[3] = {7, 8, 9};
  std::memcpy(&data[12], a, 8);  // a at [12, 20), b at [0, 12), 4 bytes of gap at the end
  std::memcpy(&data[0], b, 12);
  write_bytes(path, make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)"
                              R"("b":{"dtype":"I32","shape":[3],"data_offsets":[0,12]}})",
                              data));
  SafetensorsFile f(path);
  EXPECT_TRUE(bit_equal(f.load("a"), at::tensor({1.5f, -2.0f})));
  EXPECT_TRUE(bit_equal(f.load("b"), at::tensor({7, 8, 9}, at::kInt)));
}

struct BadHeaderCase {
  const char* label;
  std::string header;
  size_t data_bytes;
  std::vector<std::string> needles;  // besides the file path
};

TEST(Safetensors, MalformedHeadersAreLocatedErrors) {
  const std::string dir = fresh_dir("bad");
  const std::vector<BadHeaderCase> cases = {
      {"not an object", "[1,2]", 0, {"does not start with '{'"}},
      {"invalid json", "{\"a\":", 0, {"header JSON is invalid"}},
      {"trailing junk", "{} x", 0, {"header JSON is invalid"}},
      {"unknown dtype", R"({"w":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}})", 4, {"'w'", "unknown dtype 'F12'"}},
      {"missing dtype", R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4, {"'w'", "'dtype'"}},
      {"negative dim", R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, {"'w'", "non-negative"}},
      {"float dim", R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4, {"'w'", "non-negative"}},
      {"shape overflow", R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4,
       {"'w'", "overflows"}},
      {"size mismatch", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 8, {"'w'", "needs 8"}},
      {"reversed", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", 8, {"'w'", "reversed"}},
      {"past buffer", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 8, {"'w'", "past the data buffer"}},
      {"huge offsets", R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", 8, {"'w'"}},
      {"offsets arity", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4, {"'w'", "data_offsets"}},
      {"overlap", R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
       12, {"overlap", "'a'", "'b'"}},
      {"duplicate", R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
       2, {"'w'", "twice"}},
      {"metadata value", R"({"__metadata__":{"format":1}})", 0, {"__metadata__", "format"}},
      {"metadata type", R"({"__metadata__":[]})", 0, {"__metadata__"}},
      {"entry type", R"({"w":3})", 0, {"'w'", "must be an object"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    const std::string path = dir + "/case.safetensors";
    write_bytes(path, make_file(c.header, std::string(c.data_bytes, '\0')));
    std::vector<std::string> needles = c.needles;
    needles.push_back(path);
    expect_open_error(path, needles);
  }
}

TEST(Safetensors, HeaderLengthLiesAndTruncationAreErrors) {
  const std::string dir = fresh_dir("trunc");
  const std::string good = dir + "/good.safetensors";
  save_safetensors(good, {{"w", at::randn({8, 8})}, {"b", at::randn({8})}});
  const std::string bytes = read_bytes(good);
  // Every truncation point: before the length, inside the header, inside the data.
  const std::string cut = dir + "/cut.safetensors";
  for (size_t len = 0; len < bytes.size(); len += (len < 300 ? 1 : 37)) {
    write_bytes(cut, bytes.substr(0, len));
    EXPECT_THROW(SafetensorsFile f(cut), Error) << "truncated to " << len;
  }
  // Lying header length: zero, larger than the file, absurd.
  for (uint64_t n : {uint64_t(0), uint64_t(bytes.size()), uint64_t(1) << 40, ~uint64_t(0)}) {
    std::string lie = bytes;
    std::memcpy(&lie[0], &n, 8);
    write_bytes(cut, lie);
    expect_open_error(cut, {cut, "header length"});
  }
  EXPECT_NE(error_of([&] { SafetensorsFile f(dir + "/missing.safetensors"); }).find("missing.safetensors"),
            std::string::npos);
  EXPECT_NE(error_of([&] { SafetensorsFile f(dir); }).find("not a regular file"), std::string::npos);
}

TEST(Safetensors, DeeplyNestedHeaderDoesNotOverflowTheStack) {
  const std::string path = fresh_dir("nested") + "/n.safetensors";
  const std::string header = "{\"a\":" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}";
  write_bytes(path, make_file(header, ""));
  expect_open_error(path, {path, "'a'"});
}

TEST(Safetensors, BoolBytesOtherThanZeroOrOneAreRejected) {
  const std::string path = fresh_dir("bool") + "/b.safetensors";
  write_bytes(path, make_file(R"({"flags":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", std::string("\x01\x02\x00", 3)));
  SafetensorsFile f(path);
  const std::string msg = error_of([&] { f.load("flags"); });
  EXPECT_NE(msg.find("'flags'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(Safetensors, WriterRejectsBadInputAndKeepsTheOldFile) {
  const std::string dir = fresh_dir("writer_bad");
  const std::string path = dir + "/w.safetensors";
  save_safetensors(path, {{"x", at::ones({2})}});
  const std::string before = read_bytes(path);
  EXPECT_THROW(save_safetensors(path, {{"x", at::ones({2})}, {"x", at::ones({3})}}), Error);
  EXPECT_THROW(save_safetensors(path, {{"__metadata__", at::ones({2})}}), Error);
  EXPECT_THROW(save_safetensors(path, {{"", at::ones({2})}}), Error);
  EXPECT_THROW(save_safetensors(path, {{"c", at::ones({2}, at::kComplexFloat)}}), Error);
  EXPECT_THROW(save_safetensors(path, {{"q", at::ones({2})}}, {}, {"q"}), Error);  // F8 must be uint8
  EXPECT_THROW(save_safetensors(path, {{"q", at::ones({2})}}, {}, {"absent"}), Error);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  const std::string msg = error_of([&] { save_safetensors(dir + "/no/such/dir/x.safetensors", {{"x", at::ones({1})}}); });
  EXPECT_NE(msg.find("no/such/dir/x.safetensors"), std::string::npos) << msg;
}

TEST(Safetensors, NonContiguousTensorsAreWrittenByValue) {
  const std::string path = fresh_dir("noncontig") + "/t.safetensors";
  const at::Tensor base = at::arange(12, at::kFloat).view({3, 4});
  const at::Tensor transposed = base.t();  // [4, 3], strided
  save_safetensors(path, {{"t", transposed}});
  EXPECT_TRUE(at::equal(SafetensorsFile(path).load("t"), transposed));
}

// ---- checkpoints ---------------------------------------------------------------------------------

Named model_like_tensors() {
  at::manual_seed(3);
  return {{"model.embed_tokens.weight", at::randn({64, 16})},  // 4096 bytes
          {"model.layers.0.self_attn.q_proj.weight", at::randn({16, 16}).to(at::kBFloat16)},
          {"model.layers.0.mlp.down_proj.weight", at::randn({16, 32})},
          {"model.norm.weight", at::randn({16})},
          {"lm_head.weight", at::randn({64, 16})}};
}

TEST(Checkpoint, SingleFileDirectoryAndFilePath) {
  const std::string dir = fresh_dir("ckpt_single");
  const Named tensors = model_like_tensors();
  save_checkpoint_tensors(dir, tensors);
  EXPECT_TRUE(fs::exists(dir + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors.index.json"));
  for (const std::string& path : {dir, dir + "/model.safetensors"}) {
    Checkpoint ckpt(path);
    EXPECT_EQ(ckpt.names().size(), tensors.size());
    for (const auto& [name, t] : tensors) EXPECT_TRUE(bit_equal(ckpt.load(name), t)) << name;
  }
}

TEST(Checkpoint, ShardedSaveWritesHfIndexAndLoadsBack) {
  const std::string dir = fresh_dir("ckpt_sharded");
  const Named tensors = model_like_tensors();
  save_checkpoint_tensors(dir, tensors, /*max_shard_bytes=*/4096);
  // 4096 + (512 + 2048 + 64) + 4096 = 10816 bytes, greedy in order → three shards.
  for (const char* f : {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                        "model-00003-of-00003.safetensors", "model.safetensors.index.json"}) {
    EXPECT_TRUE(fs::exists(std::string(dir) + "/" + f)) << f;
  }
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors"));
  const std::string index = read_bytes(dir + "/model.safetensors.index.json");
  EXPECT_NE(index.find("\"total_size\": 10816"), std::string::npos) << index;
  EXPECT_NE(index.find("\"lm_head.weight\": \"model-00003-of-00003.safetensors\""), std::string::npos) << index;
  Checkpoint ckpt(dir);
  EXPECT_EQ(ckpt.names().size(), tensors.size());
  for (const auto& [name, t] : tensors) EXPECT_TRUE(bit_equal(ckpt.load(name), t)) << name;
  EXPECT_NE(ckpt.file_of("model.norm.weight").find("model-00002-of-00003.safetensors"), std::string::npos);

  // Saving again unsharded removes the index and the shards; re-sharding differently removes stale shards.
  save_checkpoint_tensors(dir, tensors);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  save_checkpoint_tensors(dir, tensors, 4096);
  save_checkpoint_tensors(dir, tensors, 8192);
  EXPECT_FALSE(fs::exists(dir + "/model-00003-of-00003.safetensors"));
  EXPECT_TRUE(fs::exists(dir + "/model-00002-of-00002.safetensors"));
  for (const auto& [name, t] : tensors) EXPECT_TRUE(bit_equal(Checkpoint(dir).load(name), t)) << name;
}

TEST(Checkpoint, BrokenIndexesAreLocatedErrors) {
  const std::string dir = fresh_dir("ckpt_broken");
  save_checkpoint_tensors(dir, model_like_tensors(), 4096);
  const std::string index_path = dir + "/model.safetensors.index.json";
  auto with_index = [&](const std::string& text) {
    write_bytes(index_path, text);
    return error_of([&] { Checkpoint c(dir); });
  };
  std::string msg = with_index(R"({"weight_map": {"w": "model-00009-of-00009.safetensors"}})");
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model-00009-of-00009.safetensors"), std::string::npos) << msg;
  msg = with_index(R"({"weight_map": {"lm_head.weight": "model-00001-of-00003.safetensors"}})");
  EXPECT_NE(msg.find("'lm_head.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not contain"), std::string::npos) << msg;
  msg = with_index(R"({"weight_map": {"w": "../../etc/passwd"}})");
  EXPECT_NE(msg.find("relative path inside"), std::string::npos) << msg;
  msg = with_index(R"({"metadata": {}})");
  EXPECT_NE(msg.find("weight_map"), std::string::npos) << msg;
  msg = with_index(R"({"weight_map": {"w": 3}})");
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  msg = with_index("{");
  EXPECT_NE(msg.find(index_path), std::string::npos) << msg;

  const std::string empty = fresh_dir("ckpt_empty");
  msg = error_of([&] { Checkpoint c(empty); });
  EXPECT_NE(msg.find("neither"), std::string::npos) << msg;
  msg = error_of([&] { Checkpoint c(empty + "/nothing"); });
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
}

TEST(Checkpoint, LoadCheckedNamesExpectedAndFound) {
  const std::string dir = fresh_dir("ckpt_checked");
  save_checkpoint_tensors(dir, {{"input_ids", at::zeros({2, 5}, at::kLong)}, {"w", at::ones({3, 4})}});
  Checkpoint ckpt(dir);
  EXPECT_EQ(ckpt.load_checked("input_ids", at::kLong, {2, 5}).sizes(), at::IntArrayRef({2, 5}));
  std::string msg = error_of([&] { ckpt.load_checked("input_ids", at::kFloat); });
  EXPECT_NE(msg.find("'input_ids'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected dtype F32, found I64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  msg = error_of([&] { ckpt.load_checked("w", "F32", {4, 3}); });
  EXPECT_NE(msg.find("expected shape [4, 3], found [3, 4]"), std::string::npos) << msg;
  msg = error_of([&] { ckpt.load_dequantized("w", at::kFloat, {3, 5}); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected shape [3, 5], found [3, 4]"), std::string::npos) << msg;
  msg = error_of([&] { ckpt.load_dequantized("input_ids", at::kFloat); });
  EXPECT_NE(msg.find("found I64"), std::string::npos) << msg;
  msg = error_of([&] { ckpt.load("nope"); });
  EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir), std::string::npos) << msg;
}

TEST(Checkpoint, LoadDequantizedConvertsFloatDtypes) {
  const std::string dir = fresh_dir("ckpt_dequant");
  const at::Tensor w = at::randn({4, 6}).to(at::kBFloat16);
  save_checkpoint_tensors(dir, {{"w", w}, {"h", w.to(at::kHalf)}});
  Checkpoint ckpt(dir);
  const at::Tensor f = ckpt.load_dequantized("w", at::kFloat, {4, 6});
  EXPECT_EQ(f.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(f, w.to(at::kFloat)));
  EXPECT_TRUE(bit_equal(ckpt.load_dequantized("w", at::kBFloat16), w));
  EXPECT_TRUE(at::equal(ckpt.load_dequantized("h", at::kFloat), w.to(at::kHalf).to(at::kFloat)));
}

TEST(Checkpoint, Fp8WeightsAreDequantisedWithRaggedBlocks) {
  const std::string dir = fresh_dir("ckpt_fp8");
  at::manual_seed(11);
  const at::Tensor w = at::randn({200, 300});  // N, K not multiples of 128: ragged edge blocks
  const kernels::Fp8Blocks q = kernels::quantize_weight_128x128(w);
  ASSERT_EQ(q.scale.sizes(), at::IntArrayRef({2, 3}));
  save_checkpoint_tensors(dir, {{"layer.weight", q.data}, {"layer.weight_scale_inv", q.scale}}, 5ull << 30,
                          {"layer.weight"});
  Checkpoint ckpt(dir);
  EXPECT_EQ(ckpt.info("layer.weight").dtype, "F8_E4M3");
  EXPECT_TRUE(bit_equal(ckpt.load("layer.weight"), q.data));
  const at::Tensor deq = ckpt.load_dequantized("layer.weight", at::kFloat, {200, 300});
  EXPECT_TRUE(at::equal(deq, kernels::dequantize_weight_128x128(q, at::kFloat)));
  // e4m3 keeps 3 mantissa bits: each element within 1/16 relative of the block scale's grid.
  EXPECT_LT(((deq - w).norm() / w.norm()).item<float>(), 0.05f);
  EXPECT_EQ(ckpt.load_dequantized("layer.weight", at::kBFloat16).scalar_type(), at::kBFloat16);
}

TEST(Checkpoint, Fp8ScaleProblemsAreLocatedErrors) {
  const std::string dir = fresh_dir("ckpt_fp8_bad");
  const at::Tensor codes = at::zeros({130, 64}, at::kByte);
  save_checkpoint_tensors(dir,
                          {{"a.weight", codes},
                           {"b.weight", codes},
                           {"b.weight_scale_inv", at::ones({1, 1})},  // should be [2, 1]
                           {"c.weight", codes},
                           {"c.weight_scale_inv", at::ones({2, 1}, at::kLong)}},
                          5ull << 30, {"a.weight", "b.weight", "c.weight"});
  Checkpoint ckpt(dir);
  std::string msg = error_of([&] { ckpt.load_dequantized("a.weight", at::kFloat); });
  EXPECT_NE(msg.find("'a.weight_scale_inv'"), std::string::npos) << msg;
  msg = error_of([&] { ckpt.load_dequantized("b.weight", at::kFloat); });
  EXPECT_NE(msg.find("'b.weight_scale_inv'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected shape [2, 1]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("found [1, 1]"), std::string::npos) << msg;
  msg = error_of([&] { ckpt.load_dequantized("c.weight", at::kFloat); });
  EXPECT_NE(msg.find("found I64"), std::string::npos) << msg;
}

TEST(Checkpoint, GoldenFixturesLoad) {
  const std::string model_dir = fixture_model_dir("deepseek_v3_tiny");
  if (model_dir.empty()) GTEST_SKIP() << "golden fixtures not found";
  Checkpoint ckpt(model_dir);
  EXPECT_GT(ckpt.names().size(), 10u);
  for (const auto& name : ckpt.names()) {
    const TensorInfo& info = ckpt.info(name);
    const at::Tensor t = ckpt.load(name);
    EXPECT_EQ(t.sizes(), at::IntArrayRef(info.shape)) << name;
  }
  Checkpoint ref(model_dir + "/reference.safetensors");
  const at::Tensor ids = ref.load_checked("input_ids", at::kLong);
  EXPECT_EQ(ids.dim(), 2);
  EXPECT_EQ(ref.load_checked("attention_mask", at::kLong, ids.sizes().vec()).sizes(), ids.sizes());
}

TEST(SafetensorsDtype, NamesAndSizes) {
  EXPECT_EQ(dtype_size("BF16"), 2u);
  EXPECT_EQ(dtype_size("F8_E4M3"), 1u);
  EXPECT_EQ(dtype_size("I64"), 8u);
  EXPECT_THROW(dtype_size("F4"), Error);
  EXPECT_EQ(dtype_from_safetensors("F8_E4M3", "x"), at::kByte);
  EXPECT_EQ(dtype_to_safetensors(at::kBFloat16), "BF16");
  EXPECT_THROW(dtype_to_safetensors(at::kComplexDouble), Error);
  const std::string msg = error_of([] { dtype_from_safetensors("X9", "file.safetensors: tensor 't'"); });
  EXPECT_NE(msg.find("file.safetensors: tensor 't'"), std::string::npos);
}

}  // namespace
}  // namespace r1::model
