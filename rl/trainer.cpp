// See trainer.h.
#include "rl/trainer.h"

#include <cstdio>

#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"

namespace r1::rl {

void CheckpointConfig::validate(const std::string& where) const {
  R1_CHECK(save_every >= 0 && save_every_minutes >= 0 && keep_last >= 0, where,
           ": save_every, save_every_minutes and keep_last must be >= 0");
}

void TrainingSession::log_batch(const char* key, const std::vector<size_t>& indices) {
  if (!batch_log.is_open()) return;  // a rank other than 0
  json::Document line(rapidjson::kObjectType);
  auto& a = line.GetAllocator();
  line.AddMember("step", json::Value(state.step), a);
  json::Value list(rapidjson::kArrayType);
  for (size_t idx : indices) list.PushBack(json::Value(static_cast<uint64_t>(idx)), a);
  line.AddMember(json::Value(key, a), list, a);
  batch_log.write_line(line);
}

TrainingSession resume_or_start(Policy policy, const OptimConfig& optim, StageContext& ctx) {
  TrainingSession s;
  s.policy = std::move(policy);
  s.resumed_from = ctx.resume ? latest_checkpoint(ctx.dir) : std::nullopt;
  if (s.resumed_from) {
    s.policy.model = model::CausalLM::load(*s.resumed_from, s.policy.model->dtype(), s.policy.model->device());
  }
  s.optimizer = make_optimizer(*s.policy.model, optim);
  if (optim.zero_stage == 1) s.optimizer->shard(ctx.world);
  s.gradients = std::make_unique<GradientReducer>(ctx.world, s.optimizer->parameters(), optim.overlap_allreduce);
  const bool talk = ctx.run.writer();
  if (s.resumed_from) {
    s.state = load_trainer_state(*s.resumed_from, *s.optimizer);
    if (talk) {
      std::fprintf(stderr, "%s: resumed from %s (step %ld, data position %ld)\n", ctx.spec.name.c_str(),
                   s.resumed_from->c_str(), static_cast<long>(s.state.step), static_cast<long>(s.state.data_position));
    }
  } else if (ctx.resume && talk) {
    std::fprintf(stderr, "%s: no checkpoint in %s; the stage starts at step 0\n", ctx.spec.name.c_str(),
                 path_join(ctx.dir, "checkpoints").c_str());
  }
  s.last_save = SteadyClock::now();
  if (!ctx.run.writer()) return s;  // rank 0 keeps the logs
  // What a killed run logged after its last checkpoint is logged again: forget it first.
  ctx.run.forget_steps_after(ctx.spec.name, s.state.step);
  const std::string batch_log_path = path_join(ctx.dir, "batches.jsonl");
  const int64_t resumed_step = s.state.step;
  filter_jsonl(batch_log_path, [resumed_step](const json::Value& line) {
    const json::Value* step = json::find(line, "step");
    return step && step->IsInt64() && step->GetInt64() <= resumed_step;
  });
  s.batch_log = JsonlWriter(batch_log_path);
  return s;
}

void end_of_step(TrainingSession& s, const StageContext& ctx, const CheckpointConfig& cadence, int64_t total_steps,
                 const std::function<void(const std::string&)>& add_files) {
  if (s.state.step >= total_steps) return;  // the final model follows
  bool interrupted = interrupt_requested();
  const bool due_by_steps = cadence.save_every > 0 && s.state.step % cadence.save_every == 0;
  bool due_by_time =
      cadence.save_every_minutes > 0 && seconds_since(s.last_save) >= 60.0 * cadence.save_every_minutes;
  if (ctx.world.size() > 1) {
    // Every rank stops after the same step: an interrupt seen by any rank, and rank 0's clock, decide for all.
    const double rank0_due = due_by_time && ctx.world.is_main() ? 1.0 : 0.0;
    std::vector<at::Tensor> flags = {at::tensor({interrupted ? 1.0 : 0.0, rank0_due}, at::kDouble)};
    ctx.world.all_reduce_sum(flags);
    interrupted = flags[0][0].item<double>() > 0;
    due_by_time = flags[0][1].item<double>() > 0;
  }
  if (!interrupted && !due_by_steps && !due_by_time) return;
  std::string dir = checkpoint_dir_for(ctx.dir, s.state.step);
  const auto optimizer_state = s.optimizer->state_tensors();  // every rank: gathers a sharded (ZeRO-1) state
  if (ctx.run.writer()) {
    dir = save_checkpoint(ctx.dir, s.model(), s.policy.tokenizer_dir, optimizer_state, s.optimizer->steps_taken(),
                          s.state, cadence.keep_last, add_files);
  }
  s.last_save = SteadyClock::now();
  if (interrupted) {
    // The other ranks leave only once rank 0's checkpoint is complete: a launcher that ends a job when its first
    // rank exits (torchrun, SLURM) would otherwise stop rank 0 in the middle of writing it.
    const std::string key = str_cat("checkpoint/", ctx.spec.name, "/", s.state.step);
    if (ctx.world.size() > 1 && ctx.world.is_main()) ctx.world.publish(key, dir);
    if (ctx.world.size() > 1 && !ctx.world.is_main()) ctx.world.await(key);
    throw Interrupted(str_cat("stage '", ctx.spec.name, "' stopped after step ", s.state.step, " of ", total_steps,
                              "; checkpoint saved: ", dir),
                      interrupt_signal());
  }
}

std::string finish_stage(TrainingSession& s, const StageContext& ctx) {
  const std::string final_dir = path_join(ctx.dir, "final");
  if (!ctx.run.writer()) return final_dir;  // rank 0 writes it (the pipeline waits for it)
  s.model().save(final_dir, s.policy.tokenizer_dir);
  write_logit_probe(path_join(ctx.dir, "logit_probe.json"), s.model());
  return final_dir;
}

}  // namespace r1::rl
