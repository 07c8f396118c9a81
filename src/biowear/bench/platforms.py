"""MCU platform models: clock, active and sleep power, cycles per operation class.

Every figure carries its source. Power and clock figures are transcribed from the vendors' datasheets and
product pages named beside them (not re-measured here, and not re-checked against the PDFs in this offline
environment); cycle counts per operation class come from the cores' instruction timings where those exist
and are marked ``assumption`` where they are our estimate of a library routine (e.g. ``expf``). The model
is a first-order estimate: cycles = sum over kernels of operations x cycles per operation, single core, no
cache or memory-wait effects.
"""

from __future__ import annotations

from dataclasses import dataclass

from biowear.kernels.profiler import OpCounts
from biowear.registry import Registry


@dataclass(frozen=True)
class Value:
    """A number with the source it comes from."""

    value: float
    source: str


@dataclass(frozen=True)
class Platform:
    """One microcontroller.

    Attributes:
        name: registry name.
        core: processor core.
        clock_hz: clock used for processing.
        active_w: power while processing at ``clock_hz``.
        sleep_w: power while sleeping between windows (RAM retained, wake-up timer running).
        int_cycles: cycles per operation class for integer/fixed-point arithmetic.
        float_cycles: cycles per operation class for 32-bit floating point.
    """

    name: str
    core: str
    clock_hz: Value
    active_w: Value
    sleep_w: Value
    int_cycles: dict[str, Value]
    float_cycles: dict[str, Value]

    def cycles(self, ops: OpCounts, floating: bool) -> float:
        table = self.float_cycles if floating else self.int_cycles
        return float(sum(getattr(ops, k) * v.value for k, v in table.items()))


_M4_TRM = "Arm Cortex-M4 TRM, instruction timings"
_M0P_TRM = "Arm Cortex-M0+ TRM, instruction timings"


def _cycles(
    macs: float, muls: float, adds: float, cmps: float, moves: float, trans: float, src: str, trans_src: str
) -> dict[str, Value]:
    return {
        "macs": Value(macs, src),
        "muls": Value(muls, src),
        "adds": Value(adds, src),
        "cmps": Value(cmps, src),
        "moves": Value(moves, src),
        "transcendental": Value(trans, trans_src),
    }


_M4_INT = _cycles(1, 1, 1, 1, 2, 40, _M4_TRM + " (SMLAL 1, LDR 2)", "assumption: fixed-point sqrt/div/exp routine")
_M4_FLOAT = _cycles(3, 1, 1, 1, 2, 60, _M4_TRM + " (VFMA.F32 3, VMUL/VADD 1)", "assumption: newlib expf/logf")

PLATFORMS: Registry[Platform] = Registry("platform")
PLATFORMS.register(
    "apollo3",
    Platform(
        "apollo3",
        "Cortex-M4F",
        Value(48e6, "Ambiq Apollo3 Blue datasheet: 48 MHz nominal (96 MHz burst)"),
        Value(6e-6 * 48 * 3.3, "Ambiq Apollo3 Blue datasheet: 6 uA/MHz executing from flash, at 3.3 V"),
        Value(1e-6 * 3.3, "Ambiq Apollo3 Blue datasheet: deep sleep about 1 uA, at 3.3 V"),
        _M4_INT,
        _M4_FLOAT,
    ),
)
PLATFORMS.register(
    "stm32l4r5",
    Platform(
        "stm32l4r5",
        "Cortex-M4F",
        Value(120e6, "ST STM32L4R5 datasheet: 120 MHz maximum"),
        Value(110e-6 * 120 * 3.0, "ST STM32L4R5 datasheet: about 110 uA/MHz in Run mode (LDO), at 3.0 V"),
        Value(2.8e-6 * 3.0, "ST STM32L4R5 datasheet: Stop 2 with RTC about 2.8 uA, at 3.0 V"),
        _M4_INT,
        _M4_FLOAT,
    ),
)
PLATFORMS.register(
    "gap9",
    Platform(
        "gap9",
        "RISC-V (1 fabric controller; cluster not used by this single-core model)",
        Value(240e6, "GreenWaves GAP9 product page: FC up to 400 MHz; 240 MHz assumed as the efficient point"),
        Value(0.33e-3 * 0.24 * 2, "derived from GreenWaves' 0.33 mW/GOP at 240 MHz x 2 ops/cycle (assumption)"),
        Value(45e-6, "assumption: GAP9 deep-sleep retentive in the tens of uW (GAP9 SDK low-power guide, no figure)"),
        _cycles(
            1,
            1,
            1,
            1,
            1,
            30,
            "RI5CY/XpulpV2 single-cycle MAC and post-increment loads",
            "assumption: fixed-point routine",
        ),
        _cycles(1, 1, 1, 1, 1, 30, "GAP9 FPU: single-cycle fp32 FMA (pipelined)", "assumption: libm routine"),
    ),
)
PLATFORMS.register(
    "rp2040",
    Platform(
        "rp2040",
        "dual Cortex-M0+ (one core used)",
        Value(125e6, "Raspberry Pi RP2040 datasheet: 125 MHz default system clock"),
        Value(
            21e-3 * 1.1 + 1e-3 * 3.3,
            "RP2040 datasheet power table: about 21 mA on DVDD 1.1 V when busy (assumption "
            "from the table's busy use-cases) plus about 1 mA IOVDD",
        ),
        Value(0.18e-3 * 3.3, "RP2040 datasheet: DORMANT about 0.18 mA total"),
        _cycles(
            4,
            1,
            1,
            1,
            2,
            60,
            _M0P_TRM + " (MULS 1 with the fast multiplier; 64-bit MAC by 32x32 partial products, ~4)",
            "assumption: software sqrt/div/exp",
        ),
        _cycles(
            40,
            20,
            18,
            10,
            2,
            200,
            "RP2040 datasheet, bootrom floating-point routines (tens of cycles each)",
            "assumption: bootrom-based expf/logf",
        ),
    ),
)
