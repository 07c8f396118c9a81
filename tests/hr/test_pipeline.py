"""Heart-rate application: LOSO evaluation (resumable, refused when settings change), final models, prediction.

Synthetic windows (a pulse at a known, slowly varying rate plus noise) keep the pipeline tests fast; one
real-data test trains on IEEE SPC 2015 and must beat the constant predictor.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import scipy.io

from biowear.errors import ConfigError
from biowear.hr.config import HRConfig
from biowear.hr.evaluate import METHODS, HRWindows, evaluate_loso, loso_table
from biowear.hr.final import predict_recording, train_final
from tests.conftest import cli_exit_code, require_dataset

FS = 32.0
TINY = dict(
    epochs=1, patience=0, batch_size=32, val_subjects=1, calibration_windows=16, teacher="", student="", device="cpu"
)


def synthetic_windows(subjects: int = 4, per_subject: int = 24, seed: int = 0) -> HRWindows:
    """SYNTHETIC: per subject a heart-rate ramp; PPG = pulse + noise, accelerometer = noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(256) / FS
    xs, ys, recs = [], [], []
    for s in range(subjects):
        hr = np.linspace(70 + 10 * s, 110 + 10 * s, per_subject)
        for k, bpm in enumerate(hr):
            ppg = np.sin(2 * np.pi * bpm / 60 * t + k) + 0.3 * rng.normal(size=256)
            acc = 0.1 * rng.normal(size=(3, 256))
            xs.append(np.vstack([ppg, acc]))
            ys.append(bpm)
            recs.append(f"S{s}")
    rec = np.asarray(recs)
    return HRWindows(np.asarray(xs, np.float32), np.asarray(ys, np.float32), rec, rec, FS, "synthetic-test")


def test_loso_runs_every_method_and_resumes_from_fold_files(tmp_path) -> None:
    windows = synthetic_windows()
    config = HRConfig(**TINY)
    calls = []
    results = evaluate_loso(windows, config, tmp_path, subjects=["S0", "S2"], on_fold=lambda *a: calls.append(a))
    assert [r.subject for r in results] == ["S0", "S2"] and [c[3] for c in calls] == [False, False]
    for r in results:
        assert set(r.estimates) == set(METHODS) and all(len(v) == len(r.index) for v in r.estimates.values())
        assert np.isfinite(np.concatenate(list(r.post.values()))).all()
    table = loso_table(windows, results)
    assert table.recordings == ("S0", "S2")
    assert table.costs["student_int8"].arithmetic == "int8"
    assert table.costs["student_int8"].storage_kB_int8 < table.costs["student"].storage_kB_fp32 / 3
    assert table.costs["teacher"].params > 4 * table.costs["student"].params  # about 5x, as in PULSE
    from biowear.report.hr import render_hr_report

    md = render_hr_report(windows, results, table, tmp_path / "report", "synthetic-test", {"anchor": "1 BPM"})
    text = md.read_text()
    assert "| S0 |" in text and "| S2 |" in text and "student_int8 (int8)" in text and "- anchor: 1 BPM" in text
    for name in ("traces.png", "traces_post.png", "bland_altman.png", "hr_report.json"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    # A second run reads the fold files (nothing trained) and gives the same estimates.
    calls.clear()
    again = evaluate_loso(windows, config, tmp_path, subjects=["S0", "S2"], on_fold=lambda *a: calls.append(a))
    assert [c[3] for c in calls] == [True, True]
    for a, b in zip(results, again):
        for m in METHODS:
            assert np.allclose(a.estimates[m], b.estimates[m])
    # Other settings in the same folder are refused instead of mixed in.
    with pytest.raises(ConfigError, match="other data or settings"):
        evaluate_loso(windows, HRConfig(**{**TINY, "lr": 1e-4}), tmp_path, subjects=["S0"])


def test_loso_is_deterministic_on_cpu() -> None:
    windows = synthetic_windows(subjects=3, per_subject=16)
    config = HRConfig(**TINY)
    a = evaluate_loso(windows, config, subjects=["S1"])[0]
    b = evaluate_loso(windows, config, subjects=["S1"])[0]
    for m in METHODS:
        assert np.array_equal(a.estimates[m], b.estimates[m])


def _write_test_format(path, sig6: np.ndarray, bpm: np.ndarray | None, name: str) -> tuple:
    """A competition-test-format pair: TEST_<name>.mat (5 rows, no ECG) and True_<name>.mat."""
    rec = path / f"TEST_{name}.mat"
    scipy.io.savemat(rec, {"sig": sig6[1:]})
    truth = None
    if bpm is not None:
        truth = path / f"True_{name}.mat"
        scipy.io.savemat(truth, {"BPM0": bpm.reshape(-1, 1)})
    return rec, truth


def test_final_models_predict_a_test_format_recording_and_the_cli_prints_the_mae(tmp_path, capsys) -> None:
    root = require_dataset("ieee_spc2015")
    windows = synthetic_windows()
    saved = train_final(windows, HRConfig(**TINY), tmp_path / "model")
    assert {p.name for p in saved.paths} == {"teacher.pt", "student.pt", "hr.json"}
    src = root / "Training_data"
    sig = scipy.io.loadmat(src / "DATA_03_TYPE02.mat")["sig"][:, : 125 * 40]  # 40 s: 17 windows
    bpm = scipy.io.loadmat(src / "DATA_03_TYPE02_BPMtrace.mat")["BPM0"].ravel()[:17]
    rec, truth = _write_test_format(tmp_path, sig, bpm, "S01_T01")
    pred = predict_recording(rec, tmp_path / "model", truth)
    assert pred.bpm.shape == (17,) and pred.mae == pytest.approx(np.mean(np.abs(pred.bpm - bpm)))
    capsys.readouterr()
    args = ["hr", "predict", str(rec), "--model", str(tmp_path / "model"), "--truth", str(truth)]
    assert cli_exit_code([*args, "--out", str(tmp_path / "trace.csv")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("MAE ") and last.endswith(" BPM") and float(last.split()[1]) == pytest.approx(pred.mae, 1e-2)
    lines = (tmp_path / "trace.csv").read_text().splitlines()
    assert lines[0] == "window,start_s,bpm,truth_bpm" and len(lines) == 18
    # A truth file of another length is one clear error, exit 2.
    _, short = _write_test_format(tmp_path, sig, bpm[:10], "S01_T02")
    assert cli_exit_code(["hr", "predict", str(rec), "--model", str(tmp_path / "model"), "--truth", str(short)]) == 2
    err = capsys.readouterr().out  # the CLI's console writes the error line to stdout
    assert "error:" in err and "10" in err and "17" in err and "Traceback" not in err
    # A 4-row file, and a folder without hr.json.
    bad = tmp_path / "TEST_S09_T01.mat"
    scipy.io.savemat(bad, {"sig": sig[:4]})
    assert cli_exit_code(["hr", "predict", str(bad), "--model", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().out
    assert "'sig' has 4 rows" in err and "valid layouts are 6 rows" in err
    assert cli_exit_code(["hr", "predict", str(rec), "--model", str(tmp_path)]) == 2
    assert "hr.json" in capsys.readouterr().out


def test_short_real_training_beats_the_constant_training_mean_predictor(tmp_path) -> None:
    """IEEE SPC 2015, one fold (test DATA_07): the student trained for a few epochs against the training mean."""
    require_dataset("ieee_spc2015")
    from biowear.hr.data import load_windows
    from biowear.hr.folds import loso_folds
    from biowear.hr.train import HR_TASK, train_fold
    from biowear.train.fit import predict

    config = HRConfig(epochs=4, patience=0, device="cpu")
    windows = load_windows(config)
    assert windows.x.shape[1:] == (4, 256) and len(set(windows.subject.tolist())) == 13
    fold = next(f for f in loso_folds(windows.subject, 2, 0) if f.test_subject == "DATA_07")
    models = train_fold(windows.x, windows.y, fold.train, fold.val, config, which=("student",))
    truth = windows.y[fold.test]
    mae = np.mean(np.abs(predict(models.student, windows.x[fold.test], HR_TASK) - truth))
    constant = np.mean(np.abs(windows.y[fold.train].mean() - truth))
    assert mae < 0.75 * constant, (mae, constant)
    if shutil.which("cc") is None or shutil.which("make") is None:
        return
    # the same student as int8 C: equal to the reference on every real test window, close to the float network
    from biowear.export import build
    from biowear.export.c_export import export_c
    from biowear.export.reference import run_int

    calib = windows.x[fold.train][:512]
    record, q = export_c(models.student, (4, 256), tmp_path, calib, check=windows.x[fold.test][:32])
    c_bpm = build.predict_host(tmp_path, windows.x[fold.test])
    assert record.host_exact and np.allclose(c_bpm, q.decode(run_int(q, windows.x[fold.test]))[:, 0], atol=1e-3)
    float_bpm = predict(models.student, windows.x[fold.test], HR_TASK)
    assert np.mean(np.abs(c_bpm - float_bpm)) < 1.0
    assert abs(np.mean(np.abs(c_bpm - truth)) - mae) < 0.5


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["hr", "eval", "--ppg", "3"], "HRConfig.ppg must be one of mean, 1, 2"),
        (["hr", "eval", "--dataset", "mitdb"], "not a heart-rate dataset"),
        (["hr", "train", "--epochs", "0"], "HRConfig.epochs"),
        (["hr", "predict", "missing.mat", "--model", "nowhere", "--network", "tutor"], "--network must be"),
    ],
)
def test_hr_cli_bad_input_is_one_line(tmp_path, capsys, args, fragment) -> None:
    code = cli_exit_code([*args, *(["--out", str(tmp_path / "o")] if args[1] != "predict" else [])])
    out = capsys.readouterr().out
    assert code == 2 and fragment in out and "Traceback" not in out
