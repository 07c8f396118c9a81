"""Host harness, Makefile and the Cortex-M4 build of an exported int8 C model, on a tiny hand-made dense model.

Host tests need a C compiler and make; the ``mcu`` tests need gcc-arm-none-eabi, libnewlib-arm-none-eabi and
qemu-system-arm, and skip without them unless BIOWEAR_REQUIRE_MCU=1 (CI), where they fail."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from biowear.errors import ConfigError
from biowear.export import build
from biowear.export.stack import worst_stack
from tests.export.conftest import needs_cc
from tests.export.fixtures.dense_model import make_fixture, write_fixture


def _windows(n: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, 2, 8)) * 1.5).astype(np.float32)


def _model_dir(tmp_path: Path, regression: bool = False, n: int = 40) -> tuple[Path, object, np.ndarray]:
    fx = make_fixture(seed=3, regression=regression)
    w = _windows(n)
    out = write_fixture(tmp_path / ("reg" if regression else "cls"), fx)
    build.write_harness(out, w, mcu_windows=5)
    return out, fx, w


# ---------------------------------------------------------------- host


@needs_cc
def test_host_raw_outputs_equal_the_numpy_reference(tmp_path):
    out, fx, w = _model_dir(tmp_path)
    assert build.build_host(out) == out / "infer"
    raw = build.run_host(out, w)
    ref = fx.run(w)
    assert raw.dtype == np.int8 and raw.shape == (len(w), 3)
    np.testing.assert_array_equal(raw, ref)
    assert len(np.unique(raw)) > 10  # non-trivial outputs: requantisation and clamping both exercised
    # the class line is the first maximum of the codes
    np.testing.assert_array_equal(build.predict_host(out, w), np.argmax(ref, axis=1))
    assert not list(out.glob(".windows-*.f32"))  # temporary input removed


@needs_cc
def test_host_harness_runs_from_a_relative_folder(tmp_path, monkeypatch):
    out, fx, w = _model_dir(tmp_path)
    monkeypatch.chdir(tmp_path)  # `make demo` exports into runs/demo/...: a path relative to the current folder
    relative = out.relative_to(tmp_path)
    np.testing.assert_array_equal(build.run_host(relative, w), fx.run(w))


@needs_cc
def test_regression_prints_the_value_and_raw_prints_codes(tmp_path):
    out, fx, w = _model_dir(tmp_path, regression=True)
    build.build_host(out)
    values = build.predict_host(out, w)
    codes = fx.run(w)[:, 0].astype(np.float64)
    np.testing.assert_allclose(values, codes * float(fx.out_scale), atol=5e-7)
    f32 = build.write_f32(out / "w.f32", w[:3])
    proc = subprocess.run([str(out / "infer"), "-r", str(f32)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [str(int(c)) for c in fx.run(w[:3])[:, 0]]
    long = subprocess.run([str(out / "infer"), "--raw", str(f32)], capture_output=True, text=True, timeout=30)
    assert long.stdout == proc.stdout


@needs_cc
def test_infer_refuses_a_partial_window_with_exit_code_2(tmp_path):
    out, _, w = _model_dir(tmp_path)
    build.build_host(out)
    bad = out / "bad.f32"
    bad.write_bytes(np.asarray(w[:2], "<f4").tobytes()[:-4])
    proc = subprocess.run([str(out / "infer"), str(bad)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "not a multiple of one window" in proc.stderr and "2 channels x 8 samples" in proc.stderr
    usage = subprocess.run([str(out / "infer")], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and "usage" in usage.stderr


@needs_cc
def test_a_compiler_error_is_one_config_error_naming_it(tmp_path):
    out, _, _ = _model_dir(tmp_path)
    (out / "model.c").write_text((out / "model.c").read_text() + "\nint broken(void) { return undeclared_x; }\n")
    with pytest.raises(ConfigError, match=r"make infer failed .*model\.c:\d+:\d+: error: .*undeclared_x"):
        build.build_host(out)


def test_windows_are_embedded_exactly_and_checked(tmp_path):
    fx = make_fixture()
    out = write_fixture(tmp_path / "m", fx)
    w = _windows(6)
    w[0, 0, 0] = np.float32(1.0) / np.float32(3.0)
    build.write_harness(out, w, mcu_windows=4)
    header = (out / "mcu" / "windows.h").read_text()
    assert "#define MCU_N_WINDOWS 4" in header and "mcu_windows[4][16]" in header
    assert float(np.float32(1 / 3)).hex() + "f" in header
    np.testing.assert_array_equal(build.read_f32(out / "mcu" / "windows.f32", 2, 8), w[:4])
    for name in ("infer.c", "Makefile", "mcu/startup.c", "mcu/mcu.ld", "mcu/mcu_main.c", "mcu/semihost.h"):
        assert (out / name).is_file()
    # without windows: seeded windows of the model's shape
    build.write_harness(out, None, mcu_windows=2)
    assert build.read_f32(out / "mcu" / "windows.f32", 2, 8).shape == (2, 2, 8)
    with pytest.raises(ConfigError, match=r"model takes \(2, 8\)"):
        build.write_harness(out, np.zeros((3, 2, 9), np.float32))
    with pytest.raises(ConfigError, match="NaN"):
        build.write_harness(out, np.full((1, 2, 8), np.nan, np.float32))
    with pytest.raises(ConfigError, match="mcu_windows"):
        build.write_harness(out, w, mcu_windows=0)
    with pytest.raises(ConfigError, match="no model.h"):
        build.write_harness(tmp_path / "empty")


def test_missing_cross_tools_name_the_debian_packages(tmp_path, monkeypatch):
    out = write_fixture(tmp_path / "m", make_fixture())
    build.write_harness(out, _windows(2))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(ConfigError, match="arm-none-eabi-gcc not found.*apt install gcc-arm-none-eabi"):
        build.build_mcu(out)
    (out / "build").mkdir()
    (out / "build" / "mcu.elf").write_bytes(b"")
    with pytest.raises(ConfigError, match="qemu-system-arm not found.*qemu-system-arm"):
        build.run_mcu(out)
    monkeypatch.setenv("CC", "cc")
    with pytest.raises(ConfigError, match="cc not found"):
        build.build_host(out)


def _ci(path: Path, nodes: dict[str, int | None], edges: list[tuple[str, str]]) -> None:
    lines = [f'graph: {{ title: "{path.stem}.c"']
    for name, size in nodes.items():
        label = f"{name}\\\\nx.c:1:1" + (f"\\\\n{size} bytes (static)" if size is not None else "")
        lines.append(f'node: {{ title: "{name}" label: "{label}" }}')
    lines += [f'edge: {{ sourcename: "{a}" targetname: "{b}" }}' for a, b in edges]
    path.write_text("\n".join(lines) + "\n}\n")


def test_worst_stack_takes_the_deepest_call_chain(tmp_path):
    _ci(
        tmp_path / "a.ci",
        {"model_run": 24, "x.c:conv": 100, "x.c:dense": 40, "x.c:act": 80, "memcpy": None},
        [("model_run", "x.c:conv"), ("model_run", "x.c:dense"), ("x.c:dense", "x.c:act"), ("x.c:conv", "memcpy")],
    )
    est = worst_stack(tmp_path, "model_run")
    assert est.bytes == 24 + 40 + 80 and est.path == ("model_run", "dense", "act")
    assert est.unknown_callees == ("memcpy",) and not est.exact
    _ci(tmp_path / "a.ci", {"model_run": 8, "f": 8}, [("model_run", "f"), ("f", "model_run")])
    with pytest.raises(ConfigError, match="recursion"):
        worst_stack(tmp_path, "model_run")
    (tmp_path / "a.ci").unlink()
    (tmp_path / "model.su").write_text("model.c:3:6:model_run\t48\tstatic\n")
    assert worst_stack(tmp_path, "model_run").bytes == 48
    with pytest.raises(ConfigError, match="no stack-usage information for other"):
        worst_stack(tmp_path, "other")


# ---------------------------------------------------------------- Cortex-M4 under QEMU


@pytest.mark.mcu
@needs_cc
def test_cortex_m4_build_under_qemu_equals_the_host(tmp_path, mcu_toolchain):
    out, fx, w = _model_dir(tmp_path)
    mcu = build.build_mcu(out)
    run = build.run_mcu_report(out)
    host = build.run_host(out, build.read_f32(out / "mcu" / "windows.f32", 2, 8))
    assert run.outputs.shape == (5, 3)
    np.testing.assert_array_equal(run.outputs, host)
    np.testing.assert_array_equal(run.outputs, fx.run(w[:5]))
    assert min(mcu.text, mcu.rodata, mcu.bss) > 0 and mcu.bss >= mcu.arena_bytes == fx.arena_bytes
    assert mcu.rodata >= fx.w1.size + fx.w2.size + 4 * (fx.b1.size + fx.m1.size)  # the weights are in flash
    assert mcu.flash_bytes == mcu.text + mcu.rodata + mcu.data and mcu.ram_bytes == mcu.data + mcu.bss
    assert mcu.elf_text > mcu.text and mcu.elf_bss >= mcu.bss
    # static stack = model_run's frame + dense's frame (from -fstack-usage), and bounds the measured one
    su = dict(ln.split("\t")[0].rsplit(":", 1)[1:] + [ln.split("\t")[1]] for ln in
              (out / "build" / "mcu" / "model.su").read_text().splitlines())  # fmt: skip
    assert mcu.stack_exact and mcu.stack_bytes == int(su["model_run"]) + int(su["dense"])
    assert 0 < run.stack_high_water_bytes <= mcu.stack_bytes and not run.stack_saturated
    assert json.loads(json.dumps(mcu.to_dict()))["flash_bytes"] == mcu.flash_bytes
    size = subprocess.run(["make", "-s", "size"], cwd=out, capture_output=True, text=True, timeout=60)
    assert size.returncode == 0 and ".rodata.w1" in size.stdout


@pytest.mark.mcu
def test_a_hanging_image_times_out_with_a_clear_error(tmp_path, mcu_toolchain):
    out, _, _ = _model_dir(tmp_path)
    src = (out / "model.c").read_text()
    (out / "model.c").write_text(src.replace("void model_run(const int8_t *input, int8_t *output) {",
                                             "void model_run(const int8_t *input, int8_t *output) {\n"
                                             "    for (volatile int spin = 1; spin;) {}"))  # fmt: skip
    build.build_mcu(out)
    with pytest.raises(ConfigError, match=r"QEMU \(mps2-an386\) did not finish within 2 s"):
        build.run_mcu(out, timeout_s=2)
