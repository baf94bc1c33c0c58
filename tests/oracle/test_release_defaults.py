"""pgtools.mgr.releases.DEFAULTS against each release's own binaries: ``ceph-conf -D`` of 16.2.15, 18.2.7, 20.2.4.

``ceph-conf -D`` prints every compiled-in option as ``name = value`` without a cluster (``-c /dev/null``: no
configuration file, defaults only).  Every default pgtools holds for an option Ceph compiles in must equal
what that release prints under that release's name for it, and a renamed option must be absent under its
other name — so a wrong number, a wrong release or a missed rename fails here.
"""

from __future__ import annotations

import math
import subprocess

import pytest

from pgtools.mgr import options, releases
from tests.ceph_release_tools import need, root

pytestmark = pytest.mark.oracle


def _ceph_conf_defaults(release: str) -> dict[str, str]:
    r = root(release)
    argv = ["ceph-conf", "-D", "-c", "/dev/null"]
    if r is not None:
        argv = ["chroot", str(r), *argv]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = {}
    for line in p.stdout.splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            out[name.strip()] = value.strip()
    assert len(out) > 1000, f"ceph-conf -D printed {len(out)} options"
    return out


@pytest.mark.parametrize("release", releases.MODELLED)
def test_compiled_in_defaults_are_the_binaries(release):
    need(release)
    conf = _ceph_conf_defaults(release)
    checked = 0
    for option, d in releases.DEFAULTS[release].items():
        if d.checked != "ceph-conf":
            assert d.checked == "module source" and "/" in d.name or "fixed" in d.name, (option, d)
            continue
        assert d.name in conf, f"{release}: ceph-conf has no {d.name} ({option})"
        got = float(conf[d.name])
        assert math.isclose(got, float(d.value), rel_tol=1e-9), f"{release} {d.name}: ceph-conf {got}, pgtools {d.value}"
        assert d.tag == "v" + releases.VERSIONS[release]
        for other in {option, *releases.RENAMED.get(option, {}).values()} - {d.name}:
            assert other not in conf, f"{release}: {other} exists, but pgtools reads {d.name}"
        checked += 1
    assert checked == len(options.OPTIONS) - 1  # every option Ceph compiles in (all but the autoscaler's threshold)


def test_every_option_has_a_default_per_modelled_release():
    for release in releases.MODELLED:
        assert set(releases.DEFAULTS[release]) == set(options.OPTIONS), release
