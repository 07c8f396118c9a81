"""C99 code of a quantised graph: ``model.h``, ``model.c`` (integer only) and ``model_io.c`` (float I/O).

``model.c`` holds the weights as ``const`` arrays, one static arena planned by liveness
(:mod:`biowear.export.arena`), the kernels of ``c/bw_kernels.inc`` and ``model_run``, which calls them in
order. It uses no float, no malloc and nothing of libc but ``string.h``. Scratch the LSTM needs (int16 cell
state and gates) and the decode buffer of packed weights are static arrays of their own.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from biowear.errors import ConfigError
from biowear.export.arena import ArenaPlan, plan_arena
from biowear.export.intmath import LUTS
from biowear.export.quantize import QGraph, QOp

_C_TYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.uint8): "uint8_t", np.dtype(np.int16): "int16_t",
            np.dtype(np.int32): "int32_t", np.dtype(np.uint32): "uint32_t"}  # fmt: skip


def c_array(name: str, values: np.ndarray, dtype: type = np.int32, per_line: int = 24) -> str:
    """A ``static const`` C array definition of ``values`` (converted to ``dtype``, range-checked)."""
    arr = np.asarray(values)
    info = np.iinfo(dtype)
    flat = arr.astype(np.int64).ravel()
    if flat.size and (flat.min() < info.min or flat.max() > info.max):
        raise ConfigError(f"array {name} does not fit {np.dtype(dtype).name}")
    ctype = _C_TYPES[np.dtype(dtype)]
    items = [str(int(v)) for v in flat] or ["0"]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{max(flat.size, 1)}] = {{\n    {body}\n}};\n"


def _float_literal(v: float) -> str:
    return f"{float(np.float32(v)):.9e}f"


class _Emitter:
    """Collects the definitions and the ``model_run`` statements of one graph."""

    def __init__(self, qgraph: QGraph, plan: ArenaPlan):
        self.q, self.plan = qgraph, plan
        self.defs: list[str] = []
        self.body: list[str] = []
        self.scratch_bytes = 0
        self.statics: list[str] = []

    def buffer(self, tensor: str) -> str:
        g = self.q.graph
        if tensor == g.input:
            return "input"
        if tensor == g.output:
            return "output"
        return f"(bw_arena.bytes + {self.plan.offsets[tensor]})"

    def weights(self, prefix: str, qop: QOp, key: str) -> str:
        """Define the arrays of one weight tensor and a ``bw_weights`` for it; returns its name."""
        packed = qop.packed.get(key)
        name = f"{prefix}_{key}"
        if packed is None:
            self.defs.append(c_array(name, qop.ints[key], np.int8))
            self.defs.append(f"static const bw_weights {name}_w = {{{name}, 0, 0, 8, 0, 0}};\n")
            return f"&{name}_w"
        self.defs.append(c_array(f"{name}_codes", packed.stream, np.uint8))
        self.defs.append(c_array(f"{name}_book", packed.codebook, np.int8))
        sparse = "0, 0"
        if packed.mask is not None:
            self.defs.append(c_array(f"{name}_mask", packed.mask, np.uint8))
            self.defs.append(c_array(f"{name}_rows", packed.row_start, np.uint32))
            sparse = f"{name}_mask, {name}_rows"
        self.defs.append(
            f"static const bw_weights {name}_w = {{0, {name}_codes, {name}_book, {packed.bits}, {sparse}}};\n"
        )
        return f"&{prefix}_{key}_w"

    def ints(self, prefix: str, qop: QOp, *keys: str) -> None:
        for key in keys:
            self.defs.append(c_array(f"{prefix}_{key}", qop.ints[key], np.int32))

    def op(self, index: int, qop: QOp) -> None:
        g, p = self.q.graph, qop.op.params
        prefix = f"l{index}"
        x, y = self.buffer(qop.op.inputs[0]), self.buffer(qop.op.output)
        bx, lx, cx = g.shapes[qop.op.inputs[0]]
        _, ly, cy = g.shapes[qop.op.output]
        zx, zy, act_min = qop.inp[0].zero_point, qop.out.zero_point, int(qop.ints.get("act_min", -128))
        self.body.append(f"    /* {index}: {qop.kind} {qop.op.source} -> ({bx}, {ly}, {cy}) */")
        if qop.kind in ("conv", "dense"):
            w = self.weights(prefix, qop, "weight")
            self.ints(prefix, qop, "bias", "multiplier", "shift")
            if qop.kind == "conv":
                kernel, geometry = p["weight"].shape[2], (bx, lx, cx, ly)
                conv = f"{kernel}, {p['stride']}, {p['dilation']}, {p['pad_left']}"
            else:
                kernel, geometry, conv = 1, (1, 1, lx * cx, 1), "1, 1, 1, 0"
            self.scratch_bytes = max(self.scratch_bytes, kernel * geometry[2] if "weight" in qop.packed else 0)
            b, lin, cin, lout = geometry
            self.body.append(
                f"    bw_conv({x}, {b}, {lin}, {cin}, {y}, {lout}, {cy}, {w}, {prefix}_bias, {prefix}_multiplier, "
                f"{prefix}_shift, {conv}, {zx}, {zy}, {act_min}, bw_scratch);"
            )
        elif qop.kind == "affine":
            self.ints(prefix, qop, "multiplier", "shift", "bias")
            self.body.append(
                f"    bw_affine({x}, {bx * lx}, {cx}, {y}, {prefix}_multiplier, {prefix}_shift, {prefix}_bias, {zx}, "
                f"{zy}, {act_min});"
            )
        elif qop.kind == "add":
            i = qop.ints
            b_name = qop.op.inputs[1]
            cb = g.shapes[b_name][2]
            self.body.append(
                f"    bw_add({x}, {cx}, {self.buffer(b_name)}, {cb}, {bx * lx}, {y}, {zx}, {qop.inp[1].zero_point}, "
                f"{i['left_shift']}, {i['multiplier_a']}, {i['shift_a']}, {i['multiplier_b']}, {i['shift_b']}, "
                f"{i['multiplier']}, {i['shift']}, {zy}, {act_min});"
            )
        elif qop.kind in ("maxpool", "avgpool"):
            avg = int(qop.kind == "avgpool")
            self.body.append(
                f"    bw_pool({x}, {bx}, {lx}, {cx}, {y}, {ly}, {p['kernel']}, {p['stride']}, {avg}, {zx});"
            )
        elif qop.kind == "lstm":
            self._lstm(prefix, qop, x, y, lx, cx)
        elif qop.kind == "rows_to_batch":
            self.body.append(f"    bw_rows_to_batch({x}, {lx}, {cx}, {y});")
        elif qop.kind == "rows_to_channels":
            self.body.append(f"    bw_rows_to_channels({x}, {bx}, {lx}, {cx}, {y});")
        else:
            raise ConfigError(f"no C kernel for operation {qop.kind!r}")

    def _lstm(self, prefix: str, qop: QOp, x: str, y: str, steps: int, inputs: int) -> None:
        hidden = int(qop.op.params["hidden"])
        wx = self.weights(prefix, qop, "w_ih")
        wh = self.weights(prefix, qop, "w_hh")
        self.ints(prefix, qop, "bias", "multiplier_x", "shift_x", "multiplier_h", "shift_h")
        if qop.packed:
            self.scratch_bytes = max(self.scratch_bytes, inputs, hidden)
        self.statics.append(f"static int16_t {prefix}_cell[{hidden}];\nstatic int16_t {prefix}_gates[{4 * hidden}];\n")
        i = qop.ints
        self.body.append(
            f"    bw_lstm({x}, {steps}, {inputs}, {hidden}, {wx}, {wh}, {prefix}_bias, {prefix}_multiplier_x, "
            f"{prefix}_shift_x, {prefix}_multiplier_h, {prefix}_shift_h, {qop.inp[0].zero_point}, {i['cell_bits']}, "
            f"{y}, {prefix}_cell, {prefix}_gates, bw_scratch, bw_sigmoid, bw_tanh);"
        )


def model_header(qgraph: QGraph, plan: ArenaPlan, name: str) -> str:
    g = qgraph.graph
    out = qgraph.output
    outputs = int(np.prod(g.shapes[g.output]))
    regression = int(g.target_scale is not None)
    mean, std = g.target_scale or (0.0, 1.0)
    return f"""/* {name}: generated by biowear (int8 inference; see model.c). */
#ifndef BIOWEAR_MODEL_H
#define BIOWEAR_MODEL_H
#include <stdint.h>

#define MODEL_INPUT_CHANNELS {g.input_shape[0]}
#define MODEL_INPUT_SAMPLES {g.input_shape[1]}
#define MODEL_INPUT_SIZE {g.input_shape[0] * g.input_shape[1]}
#define MODEL_OUTPUTS {outputs}
#define MODEL_IS_REGRESSION {regression}
#define MODEL_ARENA_BYTES {plan.size_bytes}
/* real output = MODEL_OUTPUT_SCALE * (code - MODEL_OUTPUT_ZERO_POINT), then * TARGET_STD + TARGET_MEAN */
#define MODEL_OUTPUT_SCALE {_float_literal(out.scale)}
#define MODEL_OUTPUT_ZERO_POINT {out.zero_point}
#define MODEL_TARGET_MEAN {_float_literal(mean)}
#define MODEL_TARGET_STD {_float_literal(std)}

/* window: MODEL_INPUT_CHANNELS x MODEL_INPUT_SAMPLES floats, channel-major -> int8 input codes */
void model_quantize_input(const float *window, int8_t *input);
/* input: MODEL_INPUT_SIZE int8 codes; output: MODEL_OUTPUTS int8 codes (integer arithmetic only) */
void model_run(const int8_t *input, int8_t *output);
/* index of the largest output code (the first one on ties) */
int model_class(const int8_t *output);
/* regression value in the target's unit */
float model_value(const int8_t *output);

#endif
"""


def model_source(qgraph: QGraph, plan: ArenaPlan, name: str) -> str:
    em = _Emitter(qgraph, plan)
    for index, qop in enumerate(qgraph.ops):
        em.op(index, qop)
    kernels = resources.files("biowear.export").joinpath("c/bw_kernels.inc").read_text(encoding="utf-8")
    luts = ""
    if any(q.kind == "lstm" for q in qgraph.ops):
        luts = c_array("bw_sigmoid", LUTS["sigmoid"], np.int16) + c_array("bw_tanh", LUTS["tanh"], np.int16)
    arena = max(plan.size_bytes, 4)
    outputs = int(np.prod(qgraph.graph.shapes[qgraph.graph.output]))
    return "\n".join(
        [
            f"/* {name}: generated by biowear. Integer-only int8 inference; no malloc, no float, libc: string.h. */",
            "#include <stdint.h>",
            "#include <string.h>",
            '#include "model.h"',
            "",
            kernels,
            luts,
            *em.defs,
            f"static union {{ int32_t align; int8_t bytes[{arena}]; }} bw_arena; /* activations, by liveness */",
            f"static int8_t bw_scratch[{max(em.scratch_bytes, 1)}]; /* one decoded row of packed weights */",
            *em.statics,
            "void model_run(const int8_t *input, int8_t *output)",
            "{",
            "    (void)bw_scratch;",
            *em.body,
            "}",
            "",
            "int model_class(const int8_t *output)",
            "{",
            "    int best = 0;",
            "    int i;",
            f"    for (i = 1; i < {outputs}; ++i) {{",
            "        if (output[i] > output[best]) {",
            "            best = i;",
            "        }",
            "    }",
            "    return best;",
            "}",
            "",
        ]
    )


def model_io_source(qgraph: QGraph, name: str) -> str:
    g = qgraph.graph
    channels, samples = g.input_shape
    gains = ", ".join(_float_literal(v) for v in qgraph.input_gain)
    offsets = ", ".join(_float_literal(v) for v in qgraph.input_offset)
    return f"""/* {name}: float input/output conversion of the int8 model (generated by biowear). */
#include "model.h"

static const float bw_gain[{channels}] = {{{gains}}};
static const float bw_offset[{channels}] = {{{offsets}}};

/* code = round_half_away(clamp(x * gain + offset, -128, 127)), float32 arithmetic, per channel */
void model_quantize_input(const float *window, int8_t *input)
{{
    int c, t;
    for (c = 0; c < {channels}; ++c) {{
        for (t = 0; t < {samples}; ++t) {{
            float v = window[c * {samples} + t] * bw_gain[c];
            v = v + bw_offset[c];
            if (!(v >= -128.0f)) {{
                v = -128.0f; /* also NaN */
            }}
            if (v > 127.0f) {{
                v = 127.0f;
            }}
            input[t * {channels} + c] = (int8_t)(v >= 0.0f ? (int)(v + 0.5f) : -(int)(0.5f - v));
        }}
    }}
}}

float model_value(const int8_t *output)
{{
    const float real = MODEL_OUTPUT_SCALE * (float)((int)output[0] - MODEL_OUTPUT_ZERO_POINT);
    return real * MODEL_TARGET_STD + MODEL_TARGET_MEAN;
}}
"""


def generate(qgraph: QGraph, name: str = "model") -> tuple[dict[str, str], ArenaPlan]:
    """The three C files (``model.h``, ``model.c``, ``model_io.c``) and the arena plan of a quantised graph."""
    plan = plan_arena(qgraph.graph)
    files = {
        "model.h": model_header(qgraph, plan, name),
        "model.c": model_source(qgraph, plan, name),
        "model_io.c": model_io_source(qgraph, name),
    }
    return files, plan
