#!/usr/bin/env python3
"""Median, min and max of wrk figures given as arguments ("21034.5", "1.23ms", "850us")."""
import statistics
import sys


def value(text):
    for suffix, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * scale, "ms"
    return float(text), ""


values = [value(arg) for arg in sys.argv[1:]]
unit = values[0][1]
numbers = [number for number, _ in values]
print(f"median {statistics.median(numbers):.2f}{unit} min {min(numbers):.2f}{unit} max {max(numbers):.2f}{unit} (n={len(numbers)})")
