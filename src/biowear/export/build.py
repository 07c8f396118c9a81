"""Build and run an exported int8 C model: host harness, Cortex-M4 cross-build under QEMU, measured flash/RAM/stack.

The code generator writes ``model.h`` / ``model.c`` / ``model_io.c`` into a folder; :func:`write_harness` adds the
files around them (``infer.c``, ``Makefile``, ``mcu/``: start-up, linker script for QEMU's ``mps2-an386``
Cortex-M4 board, a semihosting ``mcu_main.c`` and the embedded test windows ``mcu/windows.h``). Then

- :func:`build_host` / :func:`run_host` compile ``./infer`` with the host C compiler and return its raw int8
  outputs (for bit-exact comparison with the numpy reference), :func:`predict_host` its printed predictions;
- :func:`build_mcu` cross-compiles ``build/mcu.elf`` with ``arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os`` and
  returns the :class:`McuBuild` sizes of the model object; :func:`run_mcu` runs the image under
  ``qemu-system-arm -M mps2-an386`` and returns the raw outputs of the embedded windows.

Every subprocess has a timeout; a missing tool is a one-line :class:`~biowear.errors.ConfigError` naming the Debian
package. Nothing is written outside the folder given.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from biowear.errors import ConfigError
from biowear.export.stack import worst_stack
from biowear.paths import atomic_write

__all__ = [
    "APT_PACKAGES",
    "QEMU_COMMAND",
    "McuBuild",
    "McuRun",
    "build_host",
    "build_mcu",
    "model_object_sizes",
    "predict_host",
    "read_f32",
    "read_model_header",
    "run_host",
    "run_mcu",
    "run_mcu_report",
    "write_f32",
    "write_harness",
]

log = logging.getLogger(__name__)

#: What to install on Debian/Ubuntu for the Cortex-M4 build and its emulation.
APT_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
#: QEMU invocation of the Cortex-M4 image (the Makefile's ``run-mcu`` target uses the same flags).
QEMU_COMMAND = ("-M", "mps2-an386", "-nographic", "-semihosting-config", "enable=on,target=native", "-kernel")
_TEMPLATES = ("infer.c", "Makefile", "mcu/startup.c", "mcu/semihost.h", "mcu/mcu.ld", "mcu/mcu_main.c")
_MODEL_FILES = ("model.h", "model.c", "model_io.c")
_BUILD_TIMEOUT_S = 300.0
_STACK_PAINT_BYTES = 65536  # MCU_STACK_PAINT_BYTES of mcu_main.c
_TOOL_PACKAGES = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "arm-none-eabi-size": "binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
    "qemu-system-arm": "qemu-system-arm",
    "make": "make",
    "cc": "gcc",
    "size": "binutils",
}


@dataclass(frozen=True)
class McuBuild:
    """Sizes in bytes of a Cortex-M4 build (``arm-none-eabi-gcc -Os``, soft-float, section GC).

    ``text``/``rodata``/``data``/``bss`` are the model object's (``build/mcu/model.o``: the generated kernels and
    weights, summed over its ``-ffunction-sections``/``-fdata-sections`` sections); ``flash_bytes = text + rodata
    + data`` (the .data initialisers live in flash) and ``ram_bytes = data + bss`` (.bss holds the arena).
    ``stack_bytes`` is the static worst-case stack of ``model_run``: its own frame from ``-fstack-usage`` plus
    the deepest chain of callees in the ``-fcallgraph-info=su`` call graph of all objects (each callee's frame
    once per path; recursion is rejected). Calls into functions without stack information (libc, libgcc helpers)
    are listed in ``stack_unknown_callees`` and count as 0; ``stack_exact`` is False then, or when a frame is
    dynamic. ``elf_*`` are the whole image's sections (start-up, harness, newlib, semihosting) for context.
    """

    text: int
    rodata: int
    data: int
    bss: int
    stack_bytes: int
    stack_exact: bool
    stack_unknown_callees: tuple[str, ...]
    elf_text: int
    elf_rodata: int
    elf_data: int
    elf_bss: int
    arena_bytes: int
    elf_path: str

    def __post_init__(self) -> None:
        for name in ("text", "rodata", "data", "bss", "stack_bytes", "elf_text", "elf_rodata", "elf_data"):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f"McuBuild.{name} must be >= 0 bytes, got {getattr(self, name)}")
        object.__setattr__(self, "stack_unknown_callees", tuple(self.stack_unknown_callees))

    @property
    def flash_bytes(self) -> int:
        return self.text + self.rodata + self.data

    @property
    def ram_bytes(self) -> int:
        return self.data + self.bss

    def to_dict(self) -> dict:
        """JSON-ready dict, with ``flash_bytes`` and ``ram_bytes``."""
        d = asdict(self)
        d["stack_unknown_callees"] = list(self.stack_unknown_callees)
        d.update(flash_bytes=self.flash_bytes, ram_bytes=self.ram_bytes)
        return d


@dataclass(frozen=True)
class McuRun:
    """Result of running the embedded windows under QEMU: raw int8 outputs (N, K) and the measured stack
    high-water mark of ``model_run`` in bytes (stack painted before each call; ``stack_saturated`` when the
    whole painted area was used, i.e. the true depth is at least that)."""

    outputs: np.ndarray
    stack_high_water_bytes: int
    stack_saturated: bool


# ---------------------------------------------------------------- files


def read_model_header(out_dir: Path) -> dict[str, int]:
    """The integer ``#define MODEL_*`` constants of ``out_dir/model.h``."""
    path = Path(out_dir) / "model.h"
    if not path.is_file():
        raise ConfigError(f"no model.h in {out_dir}: export the model (model.h, model.c, model_io.c) first")
    found = re.findall(r"^\s*#\s*define\s+(MODEL_\w+)\s+\(?\s*(-?\d+)[uUlL]*\s*\)?\s*$", path.read_text(), re.M)
    defs = {k: int(v) for k, v in found}
    need = ("MODEL_INPUT_CHANNELS", "MODEL_INPUT_SAMPLES", "MODEL_INPUT_SIZE", "MODEL_OUTPUTS")
    missing = [k for k in need if k not in defs]
    if missing:
        raise ConfigError(f"{path} lacks integer #defines {', '.join(missing)}")
    return defs


def write_f32(path: Path, windows: np.ndarray) -> Path:
    """Write windows as raw float32 little-endian (N x C x T, C-order), the input format of ``infer``."""
    data = np.ascontiguousarray(np.asarray(windows, dtype="<f4")).tobytes()
    return atomic_write(Path(path), lambda fh: fh.write(data))


def read_f32(path: Path, channels: int, samples: int) -> np.ndarray:
    """Read a raw float32 little-endian window file as an (N, channels, samples) array."""
    raw = np.fromfile(Path(path), dtype="<f4")
    if raw.size % (channels * samples):
        raise ConfigError(f"{path}: {raw.size} floats is not a whole number of {channels}x{samples} windows")
    return raw.reshape(-1, channels, samples).astype(np.float32)


def _check_windows(windows: np.ndarray, header: dict[str, int] | None) -> np.ndarray:
    w = np.asarray(windows, dtype=np.float32)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3 or len(w) == 0:
        raise ConfigError(f"windows must be an (N, channels, samples) array with N >= 1, got shape {w.shape}")
    if header is not None:
        want = (header["MODEL_INPUT_CHANNELS"], header["MODEL_INPUT_SAMPLES"])
        if w.shape[1:] != want:
            raise ConfigError(f"windows have shape {w.shape[1:]} per window, the model takes {want} (C x T)")
    if not np.isfinite(w).all():
        raise ConfigError("windows contain NaN or infinite values")
    return w


def _windows_header(windows: np.ndarray) -> str:
    n, c, t = windows.shape
    rows = []
    for win in windows.reshape(n, c * t):
        vals = [float(v).hex() + "f" for v in win]
        rows.append("    {" + ",\n     ".join(", ".join(vals[i : i + 6]) for i in range(0, len(vals), 6)) + "}")
    return (
        "/* Test windows embedded in the Cortex-M image (written by biowear.export.build; exact float32 values\n"
        " * as C99 hexadecimal literals; the same windows are in windows.f32). */\n"
        f"#define MCU_N_WINDOWS {n}\n"
        f"static const float mcu_windows[{n}][{c * t}] = {{\n" + ",\n".join(rows) + "\n};\n"
    )


def write_harness(out_dir: Path, windows: np.ndarray | None = None, mcu_windows: int = 4) -> Path:
    """Write ``infer.c``, ``Makefile`` and ``mcu/`` (start-up, linker script, ``mcu_main.c``, ``windows.h``)
    into ``out_dir``, next to the generated model files.

    ``mcu/windows.h`` embeds the first ``mcu_windows`` of ``windows`` (N x C x T float32); without ``windows``,
    seeded standard-normal windows of the model's shape (read from ``model.h``). The embedded windows are also
    written to ``mcu/windows.f32`` so the host harness can be run on exactly the same input. Returns out_dir."""
    out_dir = Path(out_dir)
    if isinstance(mcu_windows, bool) or not isinstance(mcu_windows, int) or mcu_windows < 1:
        raise ConfigError(f"mcu_windows must be an integer >= 1, got {mcu_windows!r}")
    header = read_model_header(out_dir) if (out_dir / "model.h").is_file() else None
    if windows is None:
        if header is None:
            raise ConfigError(f"no model.h in {out_dir}: pass windows, or export the model before the harness")
        shape = (mcu_windows, header["MODEL_INPUT_CHANNELS"], header["MODEL_INPUT_SAMPLES"])
        windows = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    embedded = _check_windows(windows, header)[:mcu_windows]
    src = resources.files("biowear.export") / "c"
    for name in _TEMPLATES:
        data = (src / name).read_bytes()
        atomic_write(out_dir / name, lambda fh, data=data: fh.write(data))
    text = _windows_header(embedded).encode()
    atomic_write(out_dir / "mcu" / "windows.h", lambda fh: fh.write(text))
    write_f32(out_dir / "mcu" / "windows.f32", embedded)
    return out_dir


# ---------------------------------------------------------------- subprocesses


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pkg = _TOOL_PACKAGES.get(name, name)
        cross = name.startswith("arm-none-eabi") or name.startswith("qemu")
        hint = f"apt install {APT_PACKAGES}" if cross else f"apt install {pkg}"
        raise ConfigError(f"{name} not found on PATH (Debian package {pkg}): {hint}")
    return path


def _run(cmd: list[str], cwd: Path, timeout_s: float, what: str) -> subprocess.CompletedProcess:
    log.debug("%s: %s (in %s)", what, " ".join(cmd), cwd)
    try:
        return subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL, check=False
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{what} did not finish within {timeout_s:g} s: {' '.join(cmd)}") from None


def _first_error(proc: subprocess.CompletedProcess) -> str:
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
    for pattern in (r"\berror\b", r"undefined reference", r"\*\*\*"):
        hit = next((ln for ln in lines if re.search(pattern, ln)), None)
        if hit:
            return hit
    return lines[-1] if lines else f"exit status {proc.returncode}"


def _make(out_dir: Path, target: str, env_cc: str | None = None) -> None:
    out_dir = Path(out_dir)
    for name in (*_MODEL_FILES, "Makefile"):
        if not (out_dir / name).is_file():
            raise ConfigError(f"{out_dir} has no {name}: export the model and call write_harness first")
    cmd = [_tool("make"), "-s", target]
    if env_cc:
        cmd.append(f"CC={env_cc}")
    proc = _run(cmd, out_dir, _BUILD_TIMEOUT_S, f"make {target}")
    if proc.returncode != 0:
        raise ConfigError(f"make {target} failed in {out_dir}: {_first_error(proc)}")


def build_host(out_dir: Path) -> Path:
    """Compile the host harness (``$CC``, default ``cc``, ``-std=c99 -O2 -Wall -Wextra -ffp-contract=off``);
    returns the path of ``out_dir/infer``. A compiler error raises ConfigError naming it."""
    cc = os.environ.get("CC", "cc")
    _tool(cc.split()[0])
    _make(out_dir, "infer", env_cc=cc)
    return Path(out_dir) / "infer"


def _infer(out_dir: Path, windows: np.ndarray, raw: bool, timeout_s: float) -> list[str]:
    out_dir = Path(out_dir).resolve()  # the harness runs inside out_dir: a relative path would not resolve there
    header = read_model_header(out_dir)
    w = _check_windows(windows, header)
    exe = out_dir / "infer"
    if not exe.is_file():
        build_host(out_dir)
    tmp = out_dir / f".windows-{os.getpid()}.f32"
    try:
        write_f32(tmp, w)
        proc = _run([str(exe), *(["--raw"] if raw else []), str(tmp)], out_dir, timeout_s, "infer")
    finally:
        tmp.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise ConfigError(f"infer failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    lines = proc.stdout.splitlines()
    if len(lines) != len(w):
        raise ConfigError(f"infer printed {len(lines)} lines for {len(w)} windows")
    return lines


def _parse_raw(lines: list[str], outputs: int, source: str) -> np.ndarray:
    try:
        codes = np.array([[int(v) for v in ln.split()] for ln in lines], dtype=np.int64).reshape(len(lines), -1)
    except ValueError:
        raise ConfigError(f"{source} printed a line that is not int8 codes: {lines[:3]!r}") from None
    if codes.shape[1] != outputs or (codes < -128).any() or (codes > 127).any():
        raise ConfigError(f"{source} printed {codes.shape[1]} codes per window, expected {outputs} int8 values")
    return codes.astype(np.int8)


def run_host(out_dir: Path, windows: np.ndarray, timeout_s: float = 120.0) -> np.ndarray:
    """Raw int8 outputs of the host harness (``infer --raw``), shape (N, MODEL_OUTPUTS); builds it if needed."""
    header = read_model_header(out_dir)
    return _parse_raw(_infer(out_dir, windows, True, timeout_s), header["MODEL_OUTPUTS"], "infer")


def predict_host(out_dir: Path, windows: np.ndarray, timeout_s: float = 120.0) -> np.ndarray:
    """The harness's predictions: class indices (int64) for a classifier, float64 values for regression."""
    header = read_model_header(out_dir)
    lines = _infer(out_dir, windows, False, timeout_s)
    return np.array([float(v) for v in lines]) if header.get("MODEL_IS_REGRESSION") else np.array(lines, np.int64)


# ---------------------------------------------------------------- sizes


def _section_kind(name: str) -> str | None:
    def has(prefix: str) -> bool:
        return name == prefix or name.startswith(prefix + ".")

    if has(".text") or name.startswith(".ARM.ex") or name in (".isr_vector", ".glue_7", ".glue_7t"):
        return "text"
    if has(".rodata") or name in (".init_array", ".fini_array", ".preinit_array"):
        return "rodata"
    if has(".data"):
        return "data"
    if has(".bss") or name == "COMMON":
        return "bss"
    return None


def model_object_sizes(obj: Path, size_tool: str = "size") -> dict[str, int]:
    """Bytes of an object or image by kind (``text``, ``rodata``, ``data``, ``bss``), from ``size -A``:
    ``.text*`` and ``.ARM.ex*`` count as text, ``.rodata*`` as rodata, ``.data*`` as data, ``.bss*``/COMMON as
    bss (init/fini arrays as rodata); other sections (comments, attributes, debug) are ignored. Works for host
    objects with ``size``."""
    obj = Path(obj).resolve()
    proc = _run([_tool(size_tool), "-A", str(obj)], obj.parent, 60.0, f"{size_tool} -A")
    if proc.returncode != 0:
        raise ConfigError(f"{size_tool} -A {obj} failed: {_first_error(proc)}")
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit() and (kind := _section_kind(parts[0])):
            sizes[kind] += int(parts[1])
    return sizes


def build_mcu(out_dir: Path) -> McuBuild:
    """Cross-compile ``build/mcu.elf`` for the Cortex-M4 (``make mcu``) and measure it (see :class:`McuBuild`)."""
    out_dir = Path(out_dir)
    _tool("arm-none-eabi-gcc")
    size_tool = _tool("arm-none-eabi-size")
    if not (out_dir / "mcu" / "windows.h").is_file():
        raise ConfigError(f"{out_dir} has no mcu/windows.h: call write_harness first")
    _make(out_dir, "mcu")
    header = read_model_header(out_dir)
    obj = model_object_sizes(out_dir / "build" / "mcu" / "model.o", size_tool)
    elf = model_object_sizes(out_dir / "build" / "mcu.elf", size_tool)
    stack = worst_stack(out_dir / "build" / "mcu", "model_run")
    return McuBuild(
        **obj,
        stack_bytes=stack.bytes,
        stack_exact=stack.exact,
        stack_unknown_callees=stack.unknown_callees,
        elf_text=elf["text"],
        elf_rodata=elf["rodata"],
        elf_data=elf["data"],
        elf_bss=elf["bss"],
        arena_bytes=header.get("MODEL_ARENA_BYTES", 0),
        elf_path=str(out_dir / "build" / "mcu.elf"),
    )


def run_mcu_report(out_dir: Path, timeout_s: float = 120.0) -> McuRun:
    """Run ``build/mcu.elf`` under ``qemu-system-arm -M mps2-an386`` (semihosting) and parse its output."""
    out_dir = Path(out_dir).resolve()
    elf = out_dir / "build" / "mcu.elf"
    if not elf.is_file():
        raise ConfigError(f"{elf} does not exist: call build_mcu first")
    header = read_model_header(out_dir)
    cmd = [_tool("qemu-system-arm"), *QEMU_COMMAND, str(elf)]
    proc = _run(cmd, out_dir, timeout_s, "QEMU (mps2-an386)")
    lines = proc.stdout.splitlines()
    done = [ln for ln in lines if ln.startswith("# done ")]
    if proc.returncode != 0 or not done:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise ConfigError(f"the Cortex-M4 image failed under QEMU (exit {proc.returncode}): {tail or 'no output'}")
    values = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    outputs = _parse_raw(values, header["MODEL_OUTPUTS"], "the Cortex-M4 image")
    if len(outputs) != int(done[0].split()[2]):
        raise ConfigError(f"the Cortex-M4 image printed {len(outputs)} output lines but reported {done[0]!r}")
    hw = [ln for ln in lines if ln.startswith("# stack_high_water ")]
    high = int(hw[0].split()[2]) if hw else 0
    return McuRun(outputs=outputs, stack_high_water_bytes=high, stack_saturated=high >= _STACK_PAINT_BYTES)


def run_mcu(out_dir: Path, timeout_s: float = 120.0) -> np.ndarray:
    """Raw int8 outputs (N, MODEL_OUTPUTS) of the windows embedded in ``mcu/windows.h``, run under QEMU."""
    return run_mcu_report(out_dir, timeout_s).outputs
