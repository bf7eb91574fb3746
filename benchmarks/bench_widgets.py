"""Benchmark every control of every widget: the time from a control's change to the redrawn figure.

Each widget is built in a fresh process on about 100k **synthetic** events (``ca.simulate(40_000,
seed=1)``), then every control is changed 10 times in turn through its own options (dropdowns and toggle
buttons cycle through their values, date pickers move over the data's days, the funnel's steps text
alternates between step lists, the agent picker selects agents), the first change after building the
widget included; then it goes back to its first value, so every control starts from the same state. A
data control recomputes the analysis and redraws; a style control only redraws. The change is timed as
the user sees it: the widget computes and redraws before the assignment returns. Every change is
checked: no error message in the widget, one more computation for a data control and none for a style
control, and after a data control's changes the widget's table equals the analysis's for the arguments
the widget shows.

Targets: a data-control change within 300 ms and a style-control change within 100 ms (medians).
Usage: ``python benchmarks/bench_widgets.py [--smoke]`` (``--smoke``: the bundled sample, one change of
the first data control and of the first style control, nothing recorded). Each row of results.json is a
median against its target (a ratio under 1: met).
"""

from __future__ import annotations

from _harness import parser, record, row, run_child, warm_memory

WIDGETS = ("FunnelWidget", "AgentWidget", "TimeoutWidget", "ChangesWidget")

CHILD = r"""
import datetime, itertools, json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
import chatanalytics as ca
from chatanalytics import widgets as cw

name, smoke = sys.argv[1], sys.argv[2] == "smoke"
events = ca.load_sample() if smoke else ca.simulate(40_000, seed=1)
changes = 1 if smoke else 10
kwargs = {"steps": ["triggered", "engaged", "completed"]} if name == "FunnelWidget" else {}
t = time.perf_counter()
w = getattr(cw, name)(events, **kwargs)
build = time.perf_counter() - t
days = events["event_time_utc"].dt.tz_convert(None).dt.date
first, last = days.min(), days.max()
STEPS = ["triggered, engaged, completed", "triggered, engaged, email_input | phone_input, completed",
         "triggered, engaged", "engaged, live_chat_requested, live_chat_initiated"]


def values(control, n):
    kind = type(control).__name__
    if kind == "DatePicker":
        span = max((last - first).days, 2)
        # start: the first days; end: the last days (a range with data in it)
        return [first + datetime.timedelta(days=i % (span // 2)) for i in range(1, n + 2)]
    if kind == "Text":
        return STEPS
    if kind == "SelectMultiple":
        ids = [v for _, v in control.options]
        return [tuple(ids[: 1 + i % len(ids)]) for i in range(n + 1)] if ids else []
    return [o[1] if isinstance(o, tuple) else o for o in control.options]


out = {"widget": name, "events": len(events), "build_s": build, "controls": {}}
for kind, names in (("data", w.data_controls), ("style", w.style_controls)):
    # the smoke run changes the first control of each kind that can change: it only shows that the
    # benchmark runs and that the widget agrees with the analysis
    names = [n for n in names if not w.controls[n].disabled][:1] if smoke else names
    for cname in names:
        control = w.controls[cname]
        if control.disabled:
            continue
        start = control.value
        options = values(control, changes)
        if cname == "end":
            options = [last - (d - first) for d in options]
        options = list(dict.fromkeys([start, *options]))  # the start value too: two options alternate
        if len(options) < 2:
            continue
        times = []
        for v in itertools.cycle(options):
            if len(times) == changes:
                break
            if v == control.value:
                continue
            before = w.n_computes
            t = time.perf_counter()
            control.value = v
            times.append(time.perf_counter() - t)
            if w._errors["data"] or w._errors["style"]:
                raise SystemExit(f"{name}.{cname} = {v!r}: {w._errors}")
            if kind == "data" and w.n_computes != before + 1:
                raise SystemExit(f"{name}.{cname} = {v!r} did not recompute")
            if kind == "style" and w.n_computes != before:
                raise SystemExit(f"{name}.{cname} = {v!r} recomputed")
        agree = None
        if kind == "data":
            # the widget's numbers are the analysis's own for the arguments it shows
            again = getattr(ca, w.analysis)(events, **w.result.widget_arguments())
            agree = bool(again.frame().equals(w.result.frame()))
            if not agree:
                raise SystemExit(f"{name}.{cname}: the widget's table differs from the analysis's")
        if times:
            out["controls"][cname] = {"kind": kind, "median_s": statistics.median(times),
                                      "first_s": times[0], "max_s": max(times), "changes": len(times),
                                      "agree": agree}
        control.value = start  # each control is measured from the widget's first state
print(json.dumps(out))
"""


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    smoke = args.smoke
    if not smoke:
        warm_memory()
    rows = []
    print("| widget | control | kind | median | first | max | changes | target |")
    print("|---|---|---|---|---|---|---|---|")
    for name in WIDGETS:
        res = run_child(CHILD, name, "smoke" if smoke else "full", here=smoke)
        for cname, m in res["controls"].items():
            target = 0.3 if m["kind"] == "data" else 0.1
            rows.append(
                row(
                    f"{name}.{cname} ({m['kind']}, median)",
                    "100k",
                    m["median_s"],
                    "target",
                    target,
                    1.0,
                    m["agree"],
                )
            )
            print(
                f"| {name} | {cname} | {m['kind']} | {m['median_s'] * 1000:.0f} ms "
                f"| {m['first_s'] * 1000:.0f} ms | {m['max_s'] * 1000:.0f} ms | {m['changes']} "
                f"| {target * 1000:.0f} ms |"
            )
        print(f"{name}: {res['events']:,} synthetic events, built in {res['build_s']:.2f} s")
    record("widgets", rows, smoke)


if __name__ == "__main__":
    main()
