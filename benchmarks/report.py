"""The results as text for the terminal and as Markdown for the README, from the results dict
(the same one that goes to the JSON file, so `--from-json` can print a saved run again)."""

from machine import IMPORT_TARGET_S, MB, MEMORY_MARGIN_MB, SIZE_TARGET_MB
from measure import best
from workloads import INFERENCE_BATCHES

PHASES = ("early", "late")


def rate(v):
    return "-" if v is None else f"{v:,.0f}"


def kilo(v):
    return "-" if v is None else f"{v / 1000:.1f}k"


def yes_no(v):
    return "-" if v is None else ("yes" if v else "no")


def med(phase, key):
    return phase.get(key, {}).get("median")


def times(v):
    return "-" if v is None else f"{v:.2f}x"


def target_text(r):
    return f">={r['target']:g}x" + (f",{100 * r['ceiling_target']:.0f}%" if "ceiling_target" in r else "")


def target_markdown(r):
    return f"≥ {r['target']:g}x" + (f" and {100 * r['ceiling_target']:.0f}% of ceiling" if "ceiling_target" in r
                                     else "")


def phase_met(r, phase):
    s = r[phase]
    checks = [] if s["ratio"] is None else [s["ratio"] >= r["target"]]
    if "ceiling_target" in r:
        checks.append(s["ceiling_fraction"] >= r["ceiling_target"])
    return all(checks) if checks else None


def training_text(results):
    ceiling = results["gemm"]["ceiling_gflops"]
    lines = [f"\nTraining on {results['settings']['data_description']}, samples/s, median of "
             f"{results['settings']['windows']} windows. early = right after warm-up; late = after "
             f"{results['settings']['late_epochs']:g} epochs of training.\nfd eng = fastdnn inside the C++ steps "
             "only, at its best thread count; ratio = fastdnn best / PyTorch best; MFLOP = exact FLOPs per "
             f"sample of the Dense products;\nGFLOP/s = fastdnn best x MFLOP, % of the {ceiling:.1f} GFLOP/s GEMM "
             "ceiling; epochs = rows seen by fastdnn / by PyTorch when the windows end"]
    head = (f"{'workload':7s} {'window':6s} {'fd 1T':>8s} {'fd 2T':>8s} {'fd eng':>8s} {'torch 1T':>8s} "
            f"{'torch 2T':>8s} {'ratio':>6s} {'target':>10s} {'met':>4s} {'MFLOP':>6s} {'GFLOP/s':>7s} "
            f"{'%ceil':>6s} {'epochs':>9s}")
    lines += [head, "-" * len(head)]
    for name, r in results["workloads"].items():
        for phase in PHASES:
            p, s = r["train"][phase], r[phase]
            fd_threads = best(p, "fastdnn")[1]
            seen = p["epochs_seen"]
            epochs = "/".join(f"{seen[side]:.1f}" for side in ("fastdnn", "torch") if side in seen)
            lines.append(
                f"{name:7s} {phase:6s} {rate(med(p, 'fastdnn/1')):>8s} {rate(med(p, 'fastdnn/2')):>8s} "
                f"{rate(med(p, f'fastdnn/{fd_threads}/engine')):>8s} {rate(med(p, 'torch/1')):>8s} "
                f"{rate(med(p, 'torch/2')):>8s} {times(s['ratio']):>6s} {target_text(r):>10s} "
                f"{yes_no(phase_met(r, phase)):>4s} {r['flops_per_sample']['training'] / 1e6:6.3f} "
                f"{s['gflops']:7.1f} {100 * s['ceiling_fraction']:5.1f}% {epochs:>9s}")
    return "\n".join(lines)


def subnormals_text(results):
    """Why a side may step slower late: float32 subnormals in its weights and optimizer state."""
    lines = []
    for name, r in results["workloads"].items():
        for phase, counts in r["subnormals"].items():
            if any(n for n, _ in counts.values()):
                lines.append(f"  {name} after the {phase} windows: " + ", ".join(
                    f"{side} {n:,} of {total:,} ({100 * n / total:.1f}%)" for side, (n, total) in counts.items()))
    if not lines:
        return "\nNo subnormal values in any weights or optimizer state after the early or the late windows."
    return "\n".join(["\nSubnormal values in weights + optimizer state (they make float32 arithmetic slow):"]
                     + lines)


def inference_rows(results):
    return [(name, batch, r["inference"][str(batch)]) for name, r in results["workloads"].items()
            if "inference" in r for batch in INFERENCE_BATCHES]


def inference_text(results):
    rows = inference_rows(results)
    if not rows:
        return ""
    lines = ["\nInference, samples/s of the trained models (model.predict vs a torch forward under "
             "inference_mode, model.eval())"]
    head = (f"{'workload':8s} {'batch':>6s} {'fd 1T':>10s} {'fd 2T':>10s} {'torch 1T':>10s} {'torch 2T':>10s} "
            f"{'ratio':>6s} {'target':>7s} {'met':>4s}")
    lines += [head, "-" * len(head)]
    for name, batch, r in rows:
        lines.append(f"{name:8s} {batch:6d} {rate(med(r, 'fastdnn/1')):>10s} {rate(med(r, 'fastdnn/2')):>10s} "
                     f"{rate(med(r, 'torch/1')):>10s} {rate(med(r, 'torch/2')):>10s} {times(r['ratio']):>6s} "
                     f"{'>=' + format(r['target'], 'g') + 'x':>7s} {yes_no(r['met']):>4s}")
    return "\n".join(lines)


def other_text(results):
    lines = ["\nGEMM ceiling (float32):"]
    for r in results["gemm"]["products"]:
        lines.append(f"  {r['library']:6s} {r['shape']:22s} {r['threads']}T  {r['gflops']:7.1f} GFLOP/s")
    imp = results["import"]
    lines.append(f"\nimport fastdnn: {imp['fastdnn']['median_s']:.3f} s (target <= {IMPORT_TARGET_S} s: "
                 f"{yes_no(imp['fastdnn']['median_s'] <= IMPORT_TARGET_S)}); numpy alone: "
                 f"{imp['numpy']['median_s']:.3f} s")
    size = results["installed_size"]
    lines.append(f"installed size: {size['bytes'] / MB:.2f} MB, of which _core {size['core_bytes'] / MB:.2f} MB "
                 f"(target <= {SIZE_TARGET_MB:g} MB: {yes_no(size['bytes'] <= SIZE_TARGET_MB * MB)})")
    mem = results["peak_memory"]
    lines.append(f"peak RSS (ru_maxrss), one W1 epoch on 60,000 x 784 (random data of MNIST's shape): "
                 f"{mem['peak_bytes'] / MB:.1f} MB (VmHWM {mem['vm_hwm_bytes'] / MB:.1f} MB); data (x) "
                 f"{mem['x_bytes'] / MB:.1f} MB; difference {mem['over_data_bytes'] / MB:.1f} MB (target <= "
                 f"{MEMORY_MARGIN_MB:g} MB: {yes_no(mem['met'])}); RSS before the data (interpreter, numpy, "
                 f"fastdnn) {mem['before_data_bytes'] / MB:.1f} MB")
    for name, loaded in results.get("loaded", {}).items():
        fd = loaded["fastdnn"]
        line = (f"loaded machine ({name}, one busy process): fastdnn 2 threads {rate(fd['2'])} samples/s, "
                f"1 thread {rate(fd['1'])} samples/s, 2T/1T {fd['ratio_2_to_1']:.2f} "
                f"(2 threads >= 1 thread: {yes_no(fd['ratio_2_to_1'] >= 1)})")
        if "torch" in loaded:
            t = loaded["torch"]
            line += (f"; PyTorch 2 threads {rate(t['2'])}, 1 thread {rate(t['1'])}, "
                     f"2T/1T {t['ratio_2_to_1']:.2f}")
        lines.append(line)
    return "\n".join(lines)


def text(results):
    return "\n".join(part for part in (training_text(results), subnormals_text(results), inference_text(results),
                                       other_text(results)) if part)


def markdown(results):
    """Tables for README.md: training (early and late windows) and inference, with how they were made."""
    m, settings = results["machine"], results["settings"]
    ceiling = results["gemm"]["ceiling_gflops"]
    out = [f"Samples/s, medians of {settings['windows']} windows; {settings['data_description']}; "
           f"`{settings['command']}` on {m['date'][:10]}, {m['cpu']} ({m['cores']} cores), "
           f"fastdnn {m['fastdnn']}, PyTorch {m['torch']}, load average {m['load_average_start'][0]:.2f} at the "
           f"start and {m['load_average_end'][0]:.2f} at the end. early = right after warm-up, late = after "
           f"{settings['late_epochs']:g} epochs; best / best = each side at its best thread count; GFLOP/s = "
           f"fastdnn best x the exact Dense-product FLOPs per sample, % of the {ceiling:.0f} GFLOP/s GEMM "
           "ceiling measured in the same run.", "",
           "| workload | window | fastdnn 1T | fastdnn 2T | PyTorch 1T | PyTorch 2T | best / best | target | "
           "fastdnn GFLOP/s |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results["workloads"].items():
        for phase in PHASES:
            p, s = r["train"][phase], r[phase]
            label = f"{name} {r['title']}" if phase == "early" else ""
            ratio = times(s["ratio"])
            if s["ratio"] is not None and phase_met(r, phase) is False:
                ratio = f"**{ratio}**"
            out.append(f"| {label} | {phase} | {kilo(med(p, 'fastdnn/1'))} | {kilo(med(p, 'fastdnn/2'))} | "
                       f"{kilo(med(p, 'torch/1'))} | {kilo(med(p, 'torch/2'))} | {ratio} | "
                       f"{target_markdown(r)} | {s['gflops']:.0f} "
                       f"({100 * s['ceiling_fraction']:.0f}%) |")
    rows = inference_rows(results)
    if rows:
        out += ["", "Inference (`predict` against a torch forward under `inference_mode`):", "",
                "| workload | batch | fastdnn 1T | fastdnn 2T | PyTorch 1T | PyTorch 2T | best / best | target |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, batch, r in rows:
            ratio = times(r["ratio"])
            if r["met"] is False:
                ratio = f"**{ratio}**"
            out.append(f"| {name} | {batch:,} | {kilo(med(r, 'fastdnn/1'))} | {kilo(med(r, 'fastdnn/2'))} | "
                       f"{kilo(med(r, 'torch/1'))} | {kilo(med(r, 'torch/2'))} | {ratio} | ≥ {r['target']:g}x |")
    return "\n".join(out) + "\n"
