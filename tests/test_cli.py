"""``python -m vggviz summary`` as a script user runs it."""

import csv
import io
import json
import subprocess
import sys

import pytest


def vggviz(*args):
    return subprocess.run([sys.executable, "-m", "vggviz", *args], capture_output=True, text=True, timeout=120)


def test_summary_json_has_the_documented_schema():
    out = vggviz("summary", "vgg16", "--input-size", "320x240", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["config"] == "D" and data["input_size"] == [320, 240]
    assert set(data) == {"config", "input_size", "layers", "total_params", "total_macs"}
    first = data["layers"][0]
    assert set(first) == {"name", "type", "kernel", "stride", "padding", "in_shape", "out_shape", "params",
                          "macs", "rf", "jump", "start"}
    assert first["in_shape"] == [3, 320, 240] and first["out_shape"] == [64, 320, 240]
    assert {layer["type"] for layer in data["layers"]} <= {"conv", "pool", "lrn", "relu", "bn", "avgpool", "dropout", "fc"}
    fc8 = data["layers"][-1]
    assert fc8["name"] == "fc8" and fc8["out_shape"] == [1000] and fc8["kernel"] is None
    assert data["total_params"] == 138_357_544 == sum(layer["params"] for layer in data["layers"])


def test_summary_csv_and_table():
    out = vggviz("summary", "A-LRN", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[2]["name"] == "lrn1" and rows[-1]["name"] == "total"
    table = vggviz("summary", "C")
    assert table.returncode == 0 and "conv5_3" in table.stdout and "133," in table.stdout


@pytest.mark.parametrize("args, named", [
    (["summary", "vgg99"], "vgg16_bn"),
    (["summary", "D", "--input-size", "31"], "32"),
    (["summary", "D", "--input-size", "20x"], "HxW"),
    (["summary", "D", "--format", "xml"], "json"),
])
def test_bad_arguments_exit_2_with_one_line(args, named):
    out = vggviz(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and named in out.stderr and "Traceback" not in out.stderr
