"""Unit tests of the plain-Python parts of the GPU session's HF scripts (scripts/hf_parity.py,
scripts/hf_rollout_bench.py): the safetensors codec, the logits / greedy comparison, the inputs, the
--model specs and config overrides shared with `r1 bench rollout`, and the tables. torch and transformers are
not needed (and not installed on the CPU machines); the HF halves run in the GPU session only.
Run: python3 -m unittest discover -s tests/scripts   (CTest: scripts.python)."""
import json
import math
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import hf_parity  # noqa: E402
import hf_rollout_bench  # noqa: E402


class SafetensorsCodec(unittest.TestCase):
    def test_round_trip_of_every_written_dtype(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "t.safetensors")
            tensors = {"ids": ("I64", [2, 3], [0, 1, -2, 2**40, 5, 6]), "x": ("F32", [3], [0.5, -1.25, 3.0]),
                       "n": ("I32", [1], [7])}
            hf_parity.st_write(path, tensors)
            self.assertEqual(hf_parity.st_read(path), tensors)
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
            self.assertEqual(n % 8, 0)  # data starts 8-byte aligned

    def test_bf16_is_widened(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "b.safetensors")
            header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
            with open(path, "wb") as f:  # bf16 1.0 = 0x3F80, -2.0 = 0xC000
                f.write(struct.pack("<Q", len(header)) + header + struct.pack("<2H", 0x3F80, 0xC000))
            self.assertEqual(hf_parity.st_read(path)["w"], ("BF16", [2], [1.0, -2.0]))

    def test_errors_name_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.safetensors")
            with open(path, "wb") as f:
                f.write(b"abc")
            with self.assertRaisesRegex(ValueError, "bad.safetensors"):
                hf_parity.st_read(path)
            with self.assertRaises(ValueError):
                hf_parity.st_write(path, {"x": ("F32", [2], [1.0])})


class Comparison(unittest.TestCase):
    def test_only_real_positions_count(self):
        mask = [1, 1, 0, 1]  # [2, 2]: row 1 left-padded
        pos = hf_parity.valid_positions(mask, 2, 2)
        self.assertEqual(pos, [0, 1, 3])
        r1 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]  # vocab 2
        hf = list(r1)
        hf[4] += 100.0  # a padded position: ignored
        hf[7] += 0.5
        max_abs, rel = hf_parity.compare_logits(hf, r1, pos, 2)
        self.assertEqual(max_abs, 0.5)
        ref = math.sqrt(sum(v * v for i, v in enumerate(r1) if i // 2 in pos))
        self.assertAlmostEqual(rel, 0.5 / ref)

    def test_nan_fails(self):
        self.assertEqual(hf_parity.compare_logits([math.nan, 0.0], [1.0, 0.0], [0], 2), (math.inf, math.inf))

    def test_greedy_compares_each_row_over_its_r1_length(self):
        r1 = [[9, 9, 1, 2, 3], [9, 9, 4, 0, 0]]  # row 1 stopped after one token (r1 pads after the end)
        self.assertIsNone(hf_parity.compare_greedy(r1, [3, 1], [[9, 9, 1, 2, 3], [9, 9, 4, 7, 7]], 2))
        self.assertEqual(hf_parity.compare_greedy(r1, [3, 1], [[9, 9, 1, 5, 3], [9, 9, 4]], 2), (0, 1))
        self.assertEqual(hf_parity.compare_greedy(r1, [3, 1], [[9, 9, 1, 2], [9, 9, 4]], 2), (0, 2))  # HF shorter

    def test_inputs_are_left_padded_bytes(self):
        ids, mask = hf_parity.make_inputs(264)
        self.assertEqual(len(ids), hf_parity.BATCH * hf_parity.PROMPT_LEN)
        row1 = mask[hf_parity.PROMPT_LEN:]
        self.assertEqual(row1[:hf_parity.PAD_LEFT], [0] * hf_parity.PAD_LEFT)
        self.assertEqual(set(row1[hf_parity.PAD_LEFT:]), {1})
        self.assertTrue(all(0 <= i < 256 for i in ids))
        self.assertEqual(hf_parity.make_inputs(264), (ids, mask))  # deterministic

    def test_table_marks_pass_fail_and_errors(self):
        ok = {"case": "qwen2", "architecture": "Qwen2ForCausalLM", "missing": 0, "unexpected": 0, "max_abs": 1e-6,
              "rel": 2e-7, "greedy_mismatch": None, "pass": True}
        bad = dict(ok, case="llama", rel=0.5, greedy_mismatch=(1, 3), **{"pass": False})
        err = {"case": "v3", "error": "OSError: no config", "pass": False}
        table = hf_parity.format_table([ok, bad, err], 1e-4)
        self.assertIn("| qwen2 |", table)
        self.assertIn("PASS", table)
        self.assertIn("differ at row 1 step 3", table)
        self.assertIn("ERROR: OSError: no config", table)

    def test_check_needs_a_case(self):
        with self.assertRaises(SystemExit):
            hf_parity.parse_args(["check"])


class RolloutBench(unittest.TestCase):
    def test_model_specs_match_r1(self):
        self.assertEqual(hf_rollout_bench.parse_model_spec("recipes/models/a.json"), ("recipes/models/a.json", 0))
        self.assertEqual(hf_rollout_bench.parse_model_spec("recipes/models/a.json:8"), ("recipes/models/a.json", 8))
        for bad in ("a.json:x", "a.json:0", "a.json:-1"):
            with self.assertRaises(ValueError):
                hf_rollout_bench.parse_model_spec(bad)
        self.assertEqual(hf_rollout_bench.model_name("recipes/models/a.json:8"), "a:8")
        self.assertEqual(hf_rollout_bench.model_name("tests/fixtures/models/qwen2_tiny/config.json"), "qwen2_tiny")

    def test_layer_override_keeps_per_layer_lists_in_step(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "c.json")
            with open(path, "w") as f:
                json.dump({"num_hidden_layers": 2, "layer_types": ["full", "sliding"], "vocab_size": 10}, f)
            self.assertEqual(hf_rollout_bench.load_config_dict(path, 0)["num_hidden_layers"], 2)
            c = hf_rollout_bench.load_config_dict(path, 4)
            self.assertEqual((c["num_hidden_layers"], c["layer_types"]), (4, ["full", "sliding", "sliding", "sliding"]))
            self.assertEqual(hf_rollout_bench.load_config_dict(path, 1)["layer_types"], ["full"])

    def test_shipped_shapes(self):
        q = hf_rollout_bench.load_config_dict(os.path.join(hf_rollout_bench.ROOT, "recipes/models/qwen2.5-0.5b.json"), 0)
        self.assertEqual((q["hidden_size"], q["num_hidden_layers"], q["vocab_size"]), (896, 24, 151936))
        v = hf_rollout_bench.load_config_dict(os.path.join(hf_rollout_bench.ROOT, "recipes/models/deepseek-v2-lite.json"), 8)
        self.assertEqual((v["num_hidden_layers"], v["n_routed_experts"], v["kv_lora_rank"]), (8, 64, 512))

    def test_summary_and_comparison(self):
        r = hf_rollout_bench.summarize("a", 2, 1000, 0.5, [1.0, 3.0], [9.0, 11.0], 4, 5)
        self.assertEqual((r["prefill_s"], r["total_s"], r["decode_s"]), (2.0, 10.0, 8.0))
        self.assertAlmostEqual(r["tokens_per_s"], 2.0)
        self.assertAlmostEqual(r["decode_tokens_per_s"], 2.0)
        hf = {"results": [r, dict(r, model="b:8")]}
        r1 = {"results": [dict(r, tokens_per_s=30.0, variant="eager"), dict(r, tokens_per_s=50.0, variant="fp8-graph"),
                          dict(r, tokens_per_s=40.0, variant="graph")]}
        table = hf_rollout_bench.format_comparison(hf, r1)
        self.assertIn("| a | fp8-graph | 50 | 2 | 25.0x | met |", table)  # r1's fastest variant
        self.assertIn("| b:8 | — | — |", table)
        self.assertIn("not met", hf_rollout_bench.format_comparison(hf, {"results": [dict(r, tokens_per_s=20.0)]}))

    def test_arguments(self):
        a = hf_rollout_bench.parse_args([])
        self.assertEqual((a.batch, a.prompt_len, a.new_tokens), (64, 128, 256))
        self.assertEqual(a.model, hf_rollout_bench.DEFAULT_MODELS)
        with self.assertRaises(SystemExit):
            hf_rollout_bench.parse_args(["--new-tokens", "0"])
        with self.assertRaises(ValueError):
            hf_rollout_bench.parse_args(["--model", "x.json:y"])
        self.assertEqual(hf_rollout_bench.main(["--model", "x.json:y"]), 2)


if __name__ == "__main__":
    unittest.main()
