"""The parts of `make estimate` that do not need Yosys: reading its output, counting resources."""

import pytest

from lenet_pynq.errors import LenetError
from lenet_pynq.sim import rtl_tools

# Yosys 0.23 prints the hierarchy as text into `stat -json` (not valid JSON as a whole).
YOSYS_023_STAT = """{
   "creator": "Yosys 0.23",
   "modules": {
      "\\\\lenet_crc32": {
         "num_cells_by_type": {"LUT6": 3}
      }
   },
       lenet_crc32                   1
      "design": {
         "num_cells": 9,
         "num_cells_by_type": {
            "DSP48E1": 2, "FDRE": 10, "FDSE": 1, "LUT1": 1, "LUT6": 4, "MUXF7": 3,
            "RAM32M": 2, "RAMB18E1": 3, "RAMB36E1": 1, "SRL16E": 1
         }
      }
}
"""


def test_design_totals_are_read_from_yosys_023_output():
    cells = rtl_tools.design_cells(YOSYS_023_STAT)
    assert cells["DSP48E1"] == 2 and cells["LUT6"] == 4


def test_resources_count_lut_memory_and_half_bram18():
    res = rtl_tools.resources(rtl_tools.design_cells(YOSYS_023_STAT))
    assert res == {"LUT": 1 + 4 + 2 * 4 + 1, "LUT as memory": 9, "FF": 11, "DSP48E1": 2, "BRAM36": 2.5}


@pytest.mark.parametrize(
    ("name", "share", "fits"),
    [("DSP48E1", 0.90, True), ("DSP48E1", 0.91, False), ("LUT", 0.70, True), ("LUT", 0.71, False),
     ("FF", 0.71, False), ("BRAM36", 0.71, False)],
)
def test_the_budget_is_70_percent_of_fabric_and_block_ram_90_of_dsp(name, share, fits, capsys):
    res = {n: 0.5 * cap for n, cap in rtl_tools.XC7Z020.items()} | {"LUT as memory": 0}
    res[name] = share * rtl_tools.XC7Z020[name]
    assert rtl_tools._print_estimate(res) is fits
    line = next(x for x in capsys.readouterr().out.splitlines() if x.split()[0] == name)
    assert ("OVER BUDGET" in line) is not fits, line


def test_missing_design_totals_are_explained():
    with pytest.raises(LenetError, match="design"):
        rtl_tools.design_cells('{"modules": {}}')


def test_the_simulations_take_the_blob_by_the_one_weights_rule(tmp_path, monkeypatch, capsys):
    """`lenet rtl dump|full` and the RTL vectors read the blob as every command does: yours, else the shipped one."""
    from lenet_pynq import blob

    monkeypatch.chdir(tmp_path)  # no weights/ here
    _, source = rtl_tools.model()
    assert source == str(blob.shipped_path())
    assert "using the shipped blob" in capsys.readouterr().err
    mine = tmp_path / "weights" / "lenet_int8.bin"
    mine.parent.mkdir()
    mine.write_bytes(blob.shipped_path().read_bytes())
    blob.manifest_path(mine).write_bytes(blob.manifest_path(blob.shipped_path()).read_bytes())
    assert rtl_tools.model()[1] == "weights/lenet_int8.bin"
