"""The indicator oracle: computes DESIGN.md's indicators with the libraries that define them.

Reads JSON on stdin, {"columns": ["sma_5", "rsi_14", ...], "series": {"<name>": ["<close>", ...]}}
(closes as exact decimal text), and writes {"<name>": {"sma_5": [value or null, ...]}} on stdout:
pandas for sma (rolling mean), std (rolling sample std, ddof=1) and return (pct_change with no
filling), TA-Lib for rsi and ema. NaN and infinities are written as null; floats as Python's
repr, which round-trips.
"""

import json
import math
import sys

import numpy
import pandas
import talib


def column(name, closes):
    kind, window = name.rsplit("_", 1)
    window = int(window)
    series = pandas.Series(closes, dtype="float64")
    values = numpy.asarray(closes, dtype="float64")
    if kind == "sma":
        return series.rolling(window).mean().tolist()
    if kind == "std":
        return series.rolling(window).std(ddof=1).tolist()
    if kind == "return":
        return series.pct_change(window, fill_method=None).tolist()
    if kind == "rsi":
        return talib.RSI(values, timeperiod=window).tolist()
    if kind == "ema":
        return talib.EMA(values, timeperiod=window).tolist()
    raise SystemExit(f"unknown indicator {name}")


def finite(value):
    return value if value is not None and math.isfinite(value) else None


def main():
    request = json.load(sys.stdin)
    answer = {}
    for name, texts in request["series"].items():
        closes = [float(text) for text in texts]
        answer[name] = {col: [finite(v) for v in column(col, closes)] for col in request["columns"]}
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
