// Packed vs unpacked training loss: the same documents packed several to a row (block-diagonal attention
// bias, positions restarting per document) and one per row (padded) must give the per-token losses of each
// document run alone — for the main next-token loss and for the DeepSeek-V3 MTP loss — through the trainer's
// own loss function (lm_token_losses). Forward only, fp32, tiny random-init DeepSeek-V3 model (MLA, MoE, MTP).
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>

#include <map>

#include "model/causal_lm.h"
#include "model/config.h"
#include "rl/lm_batch.h"
#include "rl/lm_trainer.h"
#include "run_util.h"

namespace r1::rl {
namespace {

std::unique_ptr<model::CausalLM> tiny_model() {
  auto config = model::ModelConfig::from_json(testing::tiny_config_json(), "tiny config");
  auto m = model::CausalLM::init_random(config, 123);
  // Non-zero MoE correction bias, so routing differences would show.
  for (auto& [name, t] : m->named_buffers()) {
    at::NoGradGuard ng;
    t.copy_(at::randn(t.sizes(), at::TensorOptions().dtype(t.scalar_type())) * 0.01);
  }
  return m;
}

std::vector<Sequence> documents() {
  at::manual_seed(7);
  std::vector<Sequence> out;
  for (int64_t len : {9, 3, 12, 5, 7, 4, 10}) {
    Sequence s;
    at::Tensor ids = at::randint(0, 256, {len}, at::kLong);
    for (int64_t i = 0; i < len; ++i) s.ids.push_back(ids[i].item<int64_t>());
    s.train.assign(len, 1);
    if (len > 6) std::fill(s.train.begin(), s.train.begin() + len / 2, 0);  // an SFT-style prompt part
    out.push_back(std::move(s));
  }
  return out;
}

struct DocLosses {
  std::vector<float> nll, mtp;  // per target token of the document, in order (token 1.., token 2..)
};

// Each document alone: batch of one, no padding, the plain causal forward — the reference.
DocLosses alone(const model::CausalLM& m, const Sequence& s) {
  at::NoGradGuard ng;
  const int64_t L = static_cast<int64_t>(s.ids.size());
  at::Tensor ids = at::tensor(s.ids, at::kLong).unsqueeze(0);
  model::ForwardOutput out = m.forward(ids);
  at::Tensor logp = at::log_softmax(m.logits(out.hidden), -1)[0];        // [L, V]
  at::Tensor mtp_logp = at::log_softmax(m.mtp_logits(m.mtp_hidden(out.hidden, ids)), -1)[0];  // [L-1, V]
  DocLosses d;
  for (int64_t t = 1; t < L; ++t) {
    if (s.train[t]) d.nll.push_back(-logp[t - 1][s.ids[t]].item<float>());
  }
  for (int64_t t = 2; t < L; ++t) {
    if (s.train[t]) d.mtp.push_back(-mtp_logp[t - 2][s.ids[t]].item<float>());
  }
  return d;
}

// The per-document losses of a batch through the trainer's loss function, matched back to the documents.
std::map<size_t, DocLosses> through_trainer(const model::CausalLM& m, const std::vector<Sequence>& docs, bool pack,
                                            int64_t* rows_out) {
  at::NoGradGuard ng;
  LmBatch b = make_lm_batch(docs, 24, /*pad_id=*/256, pack);
  EXPECT_EQ(b.truncated, 0);
  const int64_t rows = b.input_ids.size(0), T = b.input_ids.size(1);
  *rows_out = rows;
  LmTokenLosses tl = lm_token_losses(m, b, 0, rows, /*with_mtp=*/true, /*seq_balance_loss=*/false);
  std::map<size_t, DocLosses> out;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t start = 0; start < T;) {
      const int64_t seg = b.segment_ids[r][start].item<int64_t>();
      int64_t end = start;
      while (end < T && b.segment_ids[r][end].item<int64_t>() == seg) ++end;
      if (seg != 0) {
        std::vector<int64_t> ids;
        for (int64_t t = start; t < end; ++t) ids.push_back(b.input_ids[r][t].item<int64_t>());
        size_t doc = docs.size();
        for (size_t i = 0; i < docs.size(); ++i) {
          if (docs[i].ids == ids) doc = i;
        }
        EXPECT_LT(doc, docs.size()) << "row " << r << " holds a segment that is no document";
        if (doc == docs.size()) return out;
        EXPECT_EQ(b.position_ids[r][start].item<int64_t>(), 0);
        DocLosses d;
        for (int64_t t = start + 1; t < end; ++t) {
          const bool target = tl.mask[r][t - 1].item<bool>();
          EXPECT_EQ(target, docs[doc].train[t - start] == 1) << "doc " << doc << " token " << t - start;
          if (target) d.nll.push_back(tl.nll[r][t - 1].item<float>());
        }
        for (int64_t t = start + 2; t < end; ++t) {
          const bool target = tl.mtp_mask[r][t - 2].item<bool>();
          EXPECT_EQ(target, docs[doc].train[t - start] == 1) << "doc " << doc << " MTP token " << t - start;
          if (target) d.mtp.push_back(tl.mtp_nll[r][t - 2].item<float>());
        }
        out[doc] = d;
      }
      start = end;
    }
  }
  // Nothing outside the documents' targets carries loss.
  EXPECT_EQ(tl.nll.ne(0).logical_and(tl.mask.logical_not()).sum().item<int64_t>(), 0);
  EXPECT_EQ(tl.mtp_nll.ne(0).logical_and(tl.mtp_mask.logical_not()).sum().item<int64_t>(), 0);
  return out;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << what << " target " << i;
}

TEST(Packing, PackedAndPaddedLossesEqualEachDocumentAlone) {
  auto m = tiny_model();
  ASSERT_TRUE(m->has_mtp());
  const std::vector<Sequence> docs = documents();
  int64_t packed_rows = 0, padded_rows = 0;
  auto packed = through_trainer(*m, docs, true, &packed_rows);
  auto padded = through_trainer(*m, docs, false, &padded_rows);
  EXPECT_LT(packed_rows, static_cast<int64_t>(docs.size()));  // several documents share a row
  EXPECT_EQ(padded_rows, static_cast<int64_t>(docs.size()));
  ASSERT_EQ(packed.size(), docs.size());
  ASSERT_EQ(padded.size(), docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    const DocLosses ref = alone(*m, docs[i]);
    ASSERT_FALSE(ref.nll.empty());
    expect_close(packed[i].nll, ref.nll, "packed doc " + std::to_string(i));
    expect_close(padded[i].nll, ref.nll, "padded doc " + std::to_string(i));
    expect_close(packed[i].mtp, ref.mtp, "packed MTP doc " + std::to_string(i));
    expect_close(padded[i].mtp, ref.mtp, "padded MTP doc " + std::to_string(i));
  }
}

// The MoE statistics of a training batch — the expert load that drives aux-loss-free balancing and the
// sequence-wise balance loss — are those of the documents run alone: padding is not routed or counted, and
// each packed document is its own sequence.
TEST(Packing, ExpertLoadAndSequenceBalanceLossEqualEachDocumentAlone) {
  auto m = tiny_model();
  const std::vector<Sequence> docs = documents();
  at::NoGradGuard ng;
  std::vector<at::Tensor> load_ref;
  double balance_ref = 0;
  for (const auto& doc : docs) {
    model::ForwardOutput out = m->forward(at::tensor(doc.ids, at::kLong).unsqueeze(0), {}, {}, true);
    if (load_ref.empty()) {
      load_ref = out.expert_load;
    } else {
      for (size_t l = 0; l < load_ref.size(); ++l) load_ref[l] = load_ref[l] + out.expert_load[l];
    }
    balance_ref += out.seq_balance_loss.item<double>() / static_cast<double>(docs.size());
  }
  ASSERT_FALSE(load_ref.empty());
  for (bool pack : {true, false}) {
    LmBatch b = make_lm_batch(docs, 24, /*pad_id=*/256, pack);
    ASSERT_GT(b.segment_ids.eq(0).sum().item<int64_t>(), 0) << "the batch must have padding";
    LmTokenLosses tl = lm_token_losses(*m, b, 0, b.input_ids.size(0), /*with_mtp=*/false, /*seq_balance_loss=*/true);
    ASSERT_EQ(tl.forward.expert_load.size(), load_ref.size());
    for (size_t l = 0; l < load_ref.size(); ++l) {
      EXPECT_TRUE(tl.forward.expert_load[l].equal(load_ref[l]))
          << (pack ? "packed" : "padded") << " layer " << l << ": " << tl.forward.expert_load[l] << " vs alone "
          << load_ref[l];
    }
    EXPECT_NEAR(tl.forward.seq_balance_loss.item<double>(), balance_ref, 1e-5) << (pack ? "packed" : "padded");
  }
}

}  // namespace
}  // namespace r1::rl
