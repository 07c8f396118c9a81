"""Every application end to end (quick data), input validation, the runner and the platform model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from biowear.bench.app import Window
from biowear.bench.apps import APPS
from biowear.bench.platforms import PLATFORMS
from biowear.bench.runner import KernelProfile, compare_outputs, estimate, run_app, run_suite
from biowear.errors import ConfigError, DataError
from biowear.kernels.profiler import OpCounts

EXPECTED_DOMINANT = {  # kernel with the most estimated Apollo3 cycles (seed 001 names these as dominant)
    "SeizureDetSVM": {"lomb_scargle"},
    "SeizureDetCNN": {"conv1d"},
    "CognWorkMon": {"fft_power"},
    "GestureClass": {"fastica"},
    "CoughDet": {"fft_power", "mfcc"},
    "EmotionClass": {"knn"},
    "Bio-BPfree": {"conv1d", "conv_grad"},
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """All eight apps prepared once on quick synthetic data (HeartBeatClass: synthetic when mitdb is absent
    from the given root, which is an empty folder here)."""
    empty = tmp_path_factory.mktemp("no-data")
    return {name: APPS.get(name)().prepare(seed=0, data_root=empty, quick=True) for name in APPS.names()}


def test_all_eight_registered():
    assert APPS.names() == [
        "HeartBeatClass",
        "SeizureDetSVM",
        "SeizureDetCNN",
        "CognWorkMon",
        "GestureClass",
        "CoughDet",
        "EmotionClass",
        "Bio-BPfree",
    ]
    with pytest.raises(ConfigError, match="valid options are"):
        APPS.get("ECGClass")


@pytest.mark.parametrize("name", APPS.names())
def test_app_end_to_end(prepared, name):
    app = prepared[name]
    assert app.synthetic and app.test_windows
    res = run_app(app, fixed=False, platforms=("apollo3", "rp2040"))
    assert res.synthetic and res.app == name
    assert res.total_ops.total > 0 and res.wall_s > 0 and res.static_bytes > 0 and res.dynamic_bytes > 0
    assert set(res.phases) <= {"preprocessing", "feature_extraction", "inference", "training"}
    assert res.input_bytes_per_s == pytest.approx(sum(s.bytes_per_s for s in app.info.signals))
    apollo = res.platforms[0]
    assert apollo.cycles > 0 and apollo.processing_energy_j > 0
    if name in EXPECTED_DOMINANT:
        assert apollo.dominant_kernel in EXPECTED_DOMINANT[name]
    if name == "HeartBeatClass":  # morphological filtering dominates (erosion/dilation queues)
        assert apollo.dominant_kernel in {"erosion", "dilation"}
    if name == "Bio-BPfree":
        assert set(res.phases) == {"training"} and math.isnan(apollo.duty_cycle)
        assert res.scores["loss_after"] < res.scores["loss_before"]
    else:
        assert res.accuracy is not None and 0.0 <= res.accuracy <= 1.0
    # determinism: same seed, same decisions
    again = [app.run(w).decision for w in app.test_windows]
    assert again == [app.run(w).decision for w in app.test_windows]


@pytest.mark.parametrize("name", ["HeartBeatClass", "SeizureDetSVM", "SeizureDetCNN", "CognWorkMon"])
def test_fixed_point_modes_agree_with_float(prepared, name):
    app = prepared[name]
    res = run_app(app, fixed=True, platforms=("apollo3",))
    assert res.fixed_point and res.arithmetic in ("fx16", "fx32")
    assert res.fixed_vs_float["decision_agreement"] >= 0.75
    errors = {k: v for k, v in res.fixed_vs_float.items() if k.startswith("rel_error.")}
    assert errors
    main_signal = {
        "HeartBeatClass": "combined_ecg",
        "SeizureDetSVM": "preprocessed_ecg",
        "SeizureDetCNN": "logits",
        "CognWorkMon": "filtered_eeg",
    }[name]
    assert 0 < errors[f"rel_error.{main_signal}"] < 0.02  # visible quantization, small error


def test_float_apps_refuse_fixed_mode(prepared):
    with pytest.raises(ConfigError, match="floating-point application"):
        prepared["CoughDet"].run(prepared["CoughDet"].test_windows[0], fixed=True)
    with pytest.raises(ConfigError, match="no fixed-point mode"):
        run_app(prepared["EmotionClass"], fixed=True)


def test_bad_input_gets_clear_errors(prepared):
    app = prepared["SeizureDetSVM"]
    w = app.test_windows[0]
    x = w.signals["ecg"]
    with pytest.raises(DataError, match="sampled at 64 Hz, got 128"):
        app.run(replace(w, fs_hz={"ecg": 128.0}))
    with pytest.raises(DataError, match="too short"):
        app.run(replace(w, signals={"ecg": x[:, :1000]}))
    with pytest.raises(DataError, match="NaN"):
        app.run(replace(w, signals={"ecg": np.where(np.arange(x.shape[1]) == 5, np.nan, x)}))
    with pytest.raises(DataError, match="1 channel"):
        app.run(replace(w, signals={"ecg": np.vstack([x, x])}))
    cough = prepared["CoughDet"]
    with pytest.raises(DataError, match="needs a 'imu' signal"):
        cough.run(Window({"audio": cough.test_windows[0].signals["audio"]}, {"audio": 16000.0}))


def test_platform_estimate_by_hand():
    apollo = PLATFORMS.get("apollo3")
    kernels = [KernelProfile("inference", "k", 1, 0.0, OpCounts(macs=1000, moves=10).as_dict())]
    est = estimate(kernels, apollo, floating=False, period_s=1.0)
    assert est.cycles == pytest.approx(1000 * 1 + 10 * 2)
    t = est.cycles / 48e6
    assert est.processing_s == pytest.approx(t)
    assert est.processing_energy_j == pytest.approx(t * 6e-6 * 48 * 3.3)
    assert est.acquisition_idle_energy_j == pytest.approx((1.0 - t) * 3.3e-6)
    assert est.duty_cycle == pytest.approx(t)
    floating = estimate(kernels, apollo, floating=True, period_s=1.0)
    assert floating.cycles == pytest.approx(1000 * 3 + 10 * 2)
    for p in PLATFORMS.names():
        plat = PLATFORMS.get(p)
        assert plat.clock_hz.source and plat.active_w.source and plat.sleep_w.source
        assert all(v.source for v in {**plat.int_cycles, **plat.float_cycles}.values())
    with pytest.raises(ConfigError, match="valid options are"):
        PLATFORMS.get("esp32")


def test_compare_outputs_counts_mismatches():
    from biowear.bench.app import AppOutput

    a = [AppOutput(1, {"x": np.array([1.0, 2.0]), "r": np.array([1.0])})]
    b = [AppOutput(0, {"x": np.array([1.0, 2.2]), "r": np.array([1.0, 2.0])})]
    cmp = compare_outputs(a, b)
    assert cmp["decision_agreement"] == 0.0
    assert cmp["rel_error.x"] == pytest.approx(0.2 / np.linalg.norm([1.0, 2.2]))
    assert cmp["shape_mismatch.r"] == 1.0


def test_run_suite_progress_and_unknown_platform(tmp_path):
    seen = []
    res = run_suite(
        ["EmotionClass"],
        platforms=("gap9",),
        quick=True,
        data_root=tmp_path,
        on_progress=lambda a, s: seen.append((a, s)),
    )
    assert [r.app for r in res] == ["EmotionClass"] and res[0].platforms[0].platform == "gap9"
    assert seen == [("EmotionClass", "training"), ("EmotionClass", "profiling"), ("EmotionClass", "done")]
    with pytest.raises(ConfigError, match="valid options are"):
        run_suite(["EmotionClass"], platforms=("msp430",), quick=True)
