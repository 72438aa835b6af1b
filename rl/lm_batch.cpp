// See lm_batch.h.
#include "rl/lm_batch.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace r1::rl {

LmBatch make_lm_batch(const std::vector<Sequence>& sequences, int64_t max_len, int64_t pad_id, bool pack) {
  TORCH_CHECK(max_len > 1, "make_lm_batch: max_len must be > 1, got ", max_len);
  TORCH_CHECK(!sequences.empty(), "make_lm_batch: no sequences");
  LmBatch batch;
  // Row assignment: first-fit decreasing by length when packing, one per row otherwise.
  std::vector<std::vector<size_t>> rows;
  std::vector<int64_t> fill;
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto clipped_len = [&](size_t i) { return std::min<int64_t>(static_cast<int64_t>(sequences[i].ids.size()), max_len); };
  if (pack) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return clipped_len(a) > clipped_len(b); });
  }
  for (size_t i : order) {
    TORCH_CHECK(sequences[i].ids.size() == sequences[i].train.size(), "make_lm_batch: sequence ", i, " has ",
                sequences[i].ids.size(), " ids but ", sequences[i].train.size(), " mask entries");
    const int64_t len = clipped_len(i);
    if (len == 0) continue;
    batch.truncated += static_cast<int64_t>(sequences[i].ids.size()) > max_len;
    size_t row = rows.size();
    if (pack) {
      for (size_t r = 0; r < rows.size(); ++r) {
        if (fill[r] + len <= max_len) {
          row = r;
          break;
        }
      }
    }
    if (row == rows.size()) {
      rows.emplace_back();
      fill.push_back(0);
    }
    rows[row].push_back(i);
    fill[row] += len;
  }
  TORCH_CHECK(!rows.empty(), "make_lm_batch: every sequence is empty");
  const int64_t B = static_cast<int64_t>(rows.size());
  const int64_t T = pack ? max_len : *std::max_element(fill.begin(), fill.end());
  at::Tensor ids = at::full({B, T}, pad_id, at::kLong);         // [B, T]
  at::Tensor pos = at::zeros({B, T}, at::kLong);                // [B, T]
  at::Tensor seg = at::zeros({B, T}, at::kLong);                // [B, T]
  at::Tensor mask = at::zeros({B, T}, at::kFloat);              // [B, T]
  auto ids_a = ids.accessor<int64_t, 2>();
  auto pos_a = pos.accessor<int64_t, 2>();
  auto seg_a = seg.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<float, 2>();
  for (int64_t r = 0; r < B; ++r) {
    int64_t t = 0, segment = 0;
    for (size_t i : rows[r]) {
      ++segment;
      const auto& s = sequences[i];
      const int64_t len = clipped_len(i);
      for (int64_t k = 0; k < len; ++k, ++t) {
        ids_a[r][t] = s.ids[k];
        pos_a[r][t] = k;
        seg_a[r][t] = segment;
        mask_a[r][t] = (k > 0 && s.train[k]) ? 1.0f : 0.0f;
      }
    }
  }
  batch.input_ids = ids;
  batch.position_ids = pos;
  batch.segment_ids = seg;
  batch.loss_mask = mask;
  return batch;
}

LmBatch to_device(LmBatch batch, at::Device device) {
  batch.input_ids = batch.input_ids.to(device);
  batch.position_ids = batch.position_ids.to(device);
  batch.segment_ids = batch.segment_ids.to(device);
  batch.loss_mask = batch.loss_mask.to(device);
  return batch;
}

at::Tensor packed_attention_bias(const at::Tensor& segment_ids, at::ScalarType dtype) {
  const int64_t T = segment_ids.size(1);
  at::Tensor same = segment_ids.unsqueeze(2) == segment_ids.unsqueeze(1);             // [B, T, T]
  const at::TensorOptions on_device = segment_ids.options();
  at::Tensor causal = at::ones({T, T}, on_device.dtype(at::kBool)).tril().unsqueeze(0);  // [1, T, T]
  at::Tensor real = (segment_ids != 0).unsqueeze(1);                                   // [B, 1, T] keys
  at::Tensor allowed = same & causal & real;                                           // [B, T, T]
  allowed = allowed | at::eye(T, on_device.dtype(at::kBool)).unsqueeze(0);             // padded rows: self
  at::Tensor bias = at::zeros(allowed.sizes(), on_device.dtype(dtype));
  bias.masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  return bias.unsqueeze(1);  // [B, 1, T, T]
}

}  // namespace r1::rl
